//! `RMSprop`, as `torch.optim.RMSprop`.

use core::marker::PhantomData;

use num_traits::{Float, One, Zero};

use super::Optimizer;
use super::params::{Params, Slot, check, lerp, non_negative, valid_lr};
use crate::{Element, Module};

/// `RMSprop`: each step divides the gradient by a running root mean square of past gradients; the
/// update rule of `torch.optim.RMSprop`:
///
/// ```text
/// g = grad + weight_decay * p
/// v = alpha v + (1 - alpha) g^2
/// if centered:  a = a + (1 - alpha) (g - a);   avg = sqrt(v - a^2) + eps
/// else:         avg = sqrt(v) + eps
/// if momentum > 0:  buf = momentum buf + g / avg;   p = p - lr buf
/// else:             p = p - lr g / avg
/// ```
///
/// (`v` is PyTorch's `square_avg`, `a` its `grad_avg`, `buf` its `momentum_buffer`.) The defaults
/// are PyTorch's: `alpha` 0.99, `eps` 1e-8, no weight decay, no momentum, not centered.
///
/// ```
/// use shaped::optim::{Optimizer, RMSprop};
/// use shaped::Tensor;
///
/// let mut p = Tensor::from([1.0, 1.0]);
/// let mut opt = RMSprop::new(&p, 0.01);
/// // First step: v = 0.01 g^2, so g / sqrt(v) = 10 whatever the size of g.
/// opt.step(&mut p, &Tensor::from([2.0, 0.05]));
/// approx::assert_relative_eq!(p, Tensor::from([0.9, 0.9]), epsilon = 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct RMSprop<M: Module>(RmsState<M::Elem>, PhantomData<fn() -> M>);

#[derive(Clone, Debug)]
pub(crate) struct RmsState<E: Element> {
    lr: E,
    alpha: E,
    eps: E,
    weight_decay: E,
    momentum: E,
    centered: bool,
    params: Params,
    /// `square_avg`, `momentum_buffer` (with momentum), `grad_avg` (centered).
    slots: [Slot<E>; 3],
}

impl<M: Module> RMSprop<M> {
    /// `RMSprop` with learning rate `lr` (PyTorch's default is 1e-2) for models of `model`'s type.
    ///
    /// Panics if `lr` is negative or not finite.
    ///
    /// ```
    /// use shaped::optim::{Optimizer, RMSprop};
    /// use shaped::{Rank1, Tensor};
    /// let opt = RMSprop::new(&Tensor::<Rank1<3>>::zeros(), 0.01);
    /// assert_eq!(opt.lr(), 0.01);
    /// ```
    #[must_use]
    pub fn new(model: &M, lr: M::Elem) -> Self {
        check("learning rate", lr, valid_lr(lr));
        let params = Params::of(model);
        let slots = [
            Slot::new("square_avg", &params),
            Slot::new("momentum_buffer", &params),
            Slot::new("grad_avg", &params),
        ];
        let zero = M::Elem::zero();
        Self(
            RmsState {
                lr,
                alpha: M::Elem::from_f64_lossy(0.99),
                eps: M::Elem::from_f64_lossy(1e-8),
                weight_decay: zero,
                momentum: zero,
                centered: false,
                params,
                slots,
            },
            PhantomData,
        )
    }

    super::setter!(
        /// The smoothing constant of the running mean square (default 0.99). Panics if negative.
        ///
        /// ```
        /// use shaped::optim::{Optimizer, RMSprop};
        /// use shaped::Tensor;
        /// let mut p = Tensor::from([1.0]);
        /// let mut opt = RMSprop::new(&p, 0.1).alpha(0.5);
        /// opt.step(&mut p, &Tensor::from([2.0])); // v = 0.5 * 2^2:  p = 1 - 0.1 * 2 / sqrt(2)
        /// approx::assert_relative_eq!(p.to_vec()[0], 1.0 - 0.2 / 2f64.sqrt(), epsilon = 1e-7);
        /// ```
        alpha, "alpha", non_negative
    );

    super::setter!(
        /// The term added to the denominator for numerical stability (default 1e-8). Panics if
        /// negative.
        ///
        /// ```
        /// use shaped::optim::{Optimizer, RMSprop};
        /// use shaped::Tensor;
        /// let mut p = Tensor::from([1.0]);
        /// let mut opt = RMSprop::new(&p, 0.1).alpha(0.0).eps(1.0);
        /// opt.step(&mut p, &Tensor::from([1.0])); // p = 1 - 0.1 * 1 / (sqrt(1) + 1)
        /// approx::assert_relative_eq!(p.to_vec()[0], 0.95, epsilon = 1e-12);
        /// ```
        eps, "eps", non_negative
    );

    super::setter!(
        /// L2 penalty added to the gradient (default 0). Panics if negative.
        ///
        /// ```
        /// use shaped::optim::{Optimizer, RMSprop};
        /// use shaped::Tensor;
        /// let mut p = Tensor::from([2.0]);
        /// let mut opt = RMSprop::new(&p, 0.1).alpha(0.0).weight_decay(0.5);
        /// opt.step(&mut p, &Tensor::from([0.0])); // g = 0 + 0.5 * 2 = 1:  p = 2 - 0.1 * 1 / 1
        /// approx::assert_relative_eq!(p.to_vec()[0], 1.9, epsilon = 1e-7);
        /// ```
        weight_decay, "weight decay", non_negative
    );

    /// Momentum factor (default 0). Panics if negative.
    ///
    /// ```
    /// use shaped::optim::{Optimizer, RMSprop};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([1.0]);
    /// let mut opt = RMSprop::new(&p, 0.1).alpha(0.0).momentum(0.5);
    /// opt.step(&mut p, &Tensor::from([1.0])); // buf = g / 1 = 1
    /// opt.step(&mut p, &Tensor::from([1.0])); // buf = 0.5 * 1 + 1
    /// approx::assert_relative_eq!(p.to_vec()[0], 1.0 - 0.1 - 0.15, epsilon = 1e-7);
    /// ```
    #[must_use]
    pub fn momentum(mut self, momentum: M::Elem) -> Self {
        self.set_momentum(momentum);
        self
    }

    /// Centered `RMSprop` (default off): the gradient is divided by an estimate of its variance
    /// (the running mean square minus the square of the running mean) instead of its mean square.
    ///
    /// ```
    /// use shaped::optim::{Optimizer, RMSprop};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([1.0]);
    /// let mut opt = RMSprop::new(&p, 0.1).alpha(0.5).centered(true);
    /// // v = 0.5 * 2^2 = 2, a = 0.5 * 2 = 1: divided by sqrt(2 - 1^2) = 1 rather than sqrt(2).
    /// opt.step(&mut p, &Tensor::from([2.0]));
    /// approx::assert_relative_eq!(p.to_vec()[0], 0.8, epsilon = 1e-7);
    /// ```
    #[must_use]
    pub fn centered(mut self, centered: bool) -> Self {
        self.0.centered = centered;
        self
    }
}

impl<M: Module> Optimizer<M> for RMSprop<M> {
    fn step(&mut self, model: &mut M, grads: &M::Grads) {
        let s = &mut self.0;
        let (lr, alpha, eps, wd, momentum) = (s.lr, s.alpha, s.eps, s.weight_decay, s.momentum);
        let (zero, one, centered) = (M::Elem::zero(), M::Elem::one(), s.centered);
        let keep = one - alpha;
        let [square_avg, momentum_buffer, grad_avg] = &mut s.slots;
        s.params.update(model, grads, |i, _, _, p, g| {
            let n = p.len();
            let v = square_avg.get(i, n, zero);
            let mut a = centered.then(|| grad_avg.get(i, n, zero));
            let mut buf = (momentum > zero).then(|| momentum_buffer.get(i, n, zero));
            for j in 0..n {
                let g = if wd == zero { g[j] } else { g[j] + wd * p[j] };
                v[j] = v[j] * alpha + keep * g * g;
                let avg = match &mut a {
                    Some(a) => {
                        a[j] = lerp(a[j], g, keep);
                        (v[j] - a[j] * a[j]).sqrt()
                    }
                    None => v[j].sqrt(),
                } + eps;
                match &mut buf {
                    Some(b) => {
                        b[j] = b[j] * momentum + g / avg;
                        p[j] -= lr * b[j];
                    }
                    None => p[j] -= lr * g / avg,
                }
            }
        });
    }

    fn set_momentum(&mut self, momentum: M::Elem) {
        check("momentum", momentum, non_negative(momentum));
        self.0.momentum = momentum;
    }

    super::common_methods!();
}

super::stateful!(RmsState<E>, "RMSprop", {
    lr: float(valid_lr),
    alpha: float(non_negative),
    eps: float(non_negative),
    weight_decay: float(non_negative),
    momentum: float(non_negative),
    centered: flag,
});
