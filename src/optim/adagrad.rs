//! Adagrad, as `torch.optim.Adagrad`.

use core::marker::PhantomData;

use num_traits::{Float, One, Zero};

use super::Optimizer;
use super::params::{Params, Slot, check, non_negative, valid_lr};
use crate::{Element, Module};

/// Adagrad: each parameter's step is divided by the root of the sum of its squared gradients so
/// far; the update rule of `torch.optim.Adagrad`:
///
/// ```text
/// t = t + 1;  g = grad + weight_decay * p
/// clr = lr / (1 + (t - 1) lr_decay)
/// sum = sum + g^2                        (sum starts at initial_accumulator_value)
/// p = p - clr g / (sqrt(sum) + eps)
/// ```
///
/// The defaults are PyTorch's: no learning-rate decay, no weight decay, an initial accumulator of
/// 0 and `eps` 1e-10.
///
/// ```
/// use shaped::optim::{Adagrad, Optimizer};
/// use shaped::Tensor;
///
/// let mut p = Tensor::from([1.0]);
/// let mut opt = Adagrad::new(&p, 0.1);
/// opt.step(&mut p, &Tensor::from([3.0])); // sum = 9:  p = 1 - 0.1 * 3 / 3
/// approx::assert_relative_eq!(p, Tensor::from([0.9]), epsilon = 1e-9);
/// opt.step(&mut p, &Tensor::from([4.0])); // sum = 25: p = 0.9 - 0.1 * 4 / 5
/// approx::assert_relative_eq!(p, Tensor::from([0.82]), epsilon = 1e-9);
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad<M: Module>(AdagradState<M::Elem>, PhantomData<fn() -> M>);

#[derive(Clone, Debug)]
pub(crate) struct AdagradState<E: Element> {
    lr: E,
    lr_decay: E,
    weight_decay: E,
    initial_accumulator_value: E,
    eps: E,
    params: Params,
    /// `sum`.
    slots: [Slot<E>; 1],
}

impl<M: Module> Adagrad<M> {
    /// Adagrad with learning rate `lr` (PyTorch's default is 1e-2) for models of `model`'s type.
    ///
    /// Panics if `lr` is negative or not finite.
    ///
    /// ```
    /// use shaped::optim::{Adagrad, Optimizer};
    /// use shaped::{Rank1, Tensor};
    /// let opt = Adagrad::new(&Tensor::<Rank1<3>>::zeros(), 0.01);
    /// assert_eq!(opt.lr(), 0.01);
    /// ```
    #[must_use]
    pub fn new(model: &M, lr: M::Elem) -> Self {
        check("learning rate", lr, valid_lr(lr));
        let params = Params::of(model);
        let slots = [Slot::new("sum", &params)];
        let zero = M::Elem::zero();
        Self(
            AdagradState {
                lr,
                lr_decay: zero,
                weight_decay: zero,
                initial_accumulator_value: zero,
                eps: M::Elem::from_f64_lossy(1e-10),
                params,
                slots,
            },
            PhantomData,
        )
    }

    super::setter!(
        /// The decay of the learning rate: step `t` uses `lr / (1 + (t - 1) lr_decay)` (default
        /// 0). Panics if negative.
        ///
        /// ```
        /// use shaped::optim::{Adagrad, Optimizer};
        /// use shaped::Tensor;
        /// let mut p = Tensor::from([0.0]);
        /// let mut opt = Adagrad::new(&p, 0.1).lr_decay(1.0);
        /// opt.step(&mut p, &Tensor::from([1.0])); // sum = 1, lr 0.1
        /// opt.step(&mut p, &Tensor::from([1.0])); // sum = 2, lr 0.1 / (1 + 1)
        /// approx::assert_relative_eq!(p.to_vec()[0], -0.1 - 0.05 / 2f64.sqrt(), epsilon = 1e-9);
        /// ```
        lr_decay, "lr decay", non_negative
    );

    super::setter!(
        /// L2 penalty added to the gradient (default 0). Panics if negative.
        ///
        /// ```
        /// use shaped::optim::{Adagrad, Optimizer};
        /// use shaped::Tensor;
        /// let mut p = Tensor::from([2.0]);
        /// let mut opt = Adagrad::new(&p, 0.1).weight_decay(0.5);
        /// opt.step(&mut p, &Tensor::from([0.0])); // g = 0 + 0.5 * 2 = 1:  p = 2 - 0.1 * 1 / 1
        /// approx::assert_relative_eq!(p.to_vec()[0], 1.9, epsilon = 1e-9);
        /// ```
        weight_decay, "weight decay", non_negative
    );

    super::setter!(
        /// The value the sums of squared gradients start from (default 0). Panics if negative.
        ///
        /// ```
        /// use shaped::optim::{Adagrad, Optimizer};
        /// use shaped::Tensor;
        /// let mut p = Tensor::from([1.0]);
        /// let mut opt = Adagrad::new(&p, 0.1).initial_accumulator_value(3.0);
        /// opt.step(&mut p, &Tensor::from([1.0])); // sum = 3 + 1:  p = 1 - 0.1 * 1 / 2
        /// approx::assert_relative_eq!(p.to_vec()[0], 0.95, epsilon = 1e-9);
        /// ```
        initial_accumulator_value, "initial accumulator value", non_negative
    );

    super::setter!(
        /// The term added to the denominator for numerical stability (default 1e-10). Panics if
        /// negative.
        ///
        /// ```
        /// use shaped::optim::{Adagrad, Optimizer};
        /// use shaped::Tensor;
        /// let mut p = Tensor::from([1.0]);
        /// let mut opt = Adagrad::new(&p, 0.1).eps(1.0);
        /// opt.step(&mut p, &Tensor::from([1.0])); // p = 1 - 0.1 * 1 / (sqrt(1) + 1)
        /// approx::assert_relative_eq!(p.to_vec()[0], 0.95, epsilon = 1e-12);
        /// ```
        eps, "eps", non_negative
    );
}

impl<M: Module> Optimizer<M> for Adagrad<M> {
    fn step(&mut self, model: &mut M, grads: &M::Grads) {
        let s = &mut self.0;
        let (lr, lr_decay, wd, eps) = (s.lr, s.lr_decay, s.weight_decay, s.eps);
        let (zero, one, init) = (M::Elem::zero(), M::Elem::one(), s.initial_accumulator_value);
        let [sums] = &mut s.slots;
        s.params.update(model, grads, |i, step, _, p, g| {
            let clr = lr / (one + M::Elem::from_f64_lossy((step - 1) as f64) * lr_decay);
            let sum = sums.get(i, p.len(), init);
            for ((p, &g), sum) in p.iter_mut().zip(g).zip(sum.iter_mut()) {
                let g = if wd == zero { g } else { g + wd * *p };
                *sum += g * g;
                *p -= clr * g / (sum.sqrt() + eps);
            }
        });
    }

    /// Adagrad has no momentum: this panics.
    ///
    /// ```should_panic
    /// use shaped::optim::{Adagrad, Optimizer};
    /// use shaped::Tensor;
    /// let mut opt = Adagrad::new(&Tensor::from([1.0]), 0.1);
    /// opt.set_momentum(0.9); // Adagrad has no momentum to set to 0.9
    /// ```
    fn set_momentum(&mut self, momentum: M::Elem) {
        panic!(
            "Adagrad has no momentum to set to {momentum} (a one-cycle schedule cycles the \
             momentum unless it is built with `cycle_momentum(false)`)"
        );
    }

    super::common_methods!();
}

super::stateful!(AdagradState<E>, "Adagrad", {
    lr: float(valid_lr),
    lr_decay: float(non_negative),
    weight_decay: float(non_negative),
    initial_accumulator_value: float(non_negative),
    eps: float(non_negative),
});
