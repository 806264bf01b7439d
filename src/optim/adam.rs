//! `Adam` and `AdamW`, as `torch.optim.Adam` and `torch.optim.AdamW`.

use core::marker::PhantomData;

use num_traits::Zero;

use super::Optimizer;
use super::params::{Params, Slot, check, lerp, non_negative, unit, valid_lr};
use crate::gemm::in_two_parts;
use crate::{Element, Module};

/// The state and settings Adam and AdamW share; `DECOUPLED` selects AdamW's weight decay (shrink
/// `p`) over Adam's (add to `g`).
#[derive(Clone, Debug)]
pub(crate) struct Moments<E: Element, const DECOUPLED: bool> {
    lr: E,
    beta1: E,
    beta2: E,
    eps: E,
    weight_decay: E,
    params: Params,
    /// `exp_avg` and `exp_avg_sq`.
    slots: [Slot<E>; 2],
}

impl<E: Element, const DECOUPLED: bool> Moments<E, DECOUPLED> {
    fn new<M: Module<Elem = E>>(model: &M, lr: E, weight_decay: E) -> Self {
        check("learning rate", lr, valid_lr(lr));
        let params = Params::of(model);
        let slots = [
            Slot::new("exp_avg", &params),
            Slot::new("exp_avg_sq", &params),
        ];
        Self {
            lr,
            beta1: E::from_f64_lossy(0.9),
            beta2: E::from_f64_lossy(0.999),
            eps: E::from_f64_lossy(1e-8),
            weight_decay,
            params,
            slots,
        }
    }

    fn step<M: Module<Elem = E>>(&mut self, model: &mut M, grads: &M::Grads) {
        let (lr, b1, b2, eps, wd) = (self.lr, self.beta1, self.beta2, self.eps, self.weight_decay);
        let (zero, one) = (E::zero(), E::one());
        let shrink = one - lr * wd;
        let [m, v] = &mut self.slots;
        self.params.update(model, grads, |i, step, dims, p, g| {
            let t = i32::try_from(step).unwrap_or(i32::MAX);
            let bias1 = one - b1.powi(t);
            let bias2_sqrt = (one - b2.powi(t)).sqrt();
            let step_size = lr / bias1;
            let (m, v) = (m.get(i, p.len(), zero), v.get(i, p.len(), zero));
            in_two_parts(dims, p, g, [m, v], |p, g, [m, v]| {
                for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                    let g = if DECOUPLED {
                        *p *= shrink;
                        g
                    } else {
                        g + wd * *p
                    };
                    *m = lerp(*m, g, one - b1);
                    *v = b2 * *v + (one - b2) * g * g;
                    let denom = v.sqrt() / bias2_sqrt + eps;
                    *p -= step_size * *m / denom;
                }
            });
        });
    }
}

super::stateful!(Moments<E, const DECOUPLED: bool>, if DECOUPLED { "AdamW" } else { "Adam" }, {
    lr: float(valid_lr),
    beta1: float(unit),
    beta2: float(unit),
    eps: float(non_negative),
    weight_decay: float(non_negative),
});

macro_rules! adam_settings {
    ($ty:literal) => {
        /// The exponential decay rates of the first and second moment estimates (default 0.9, 0.999).
        /// Panics unless both are in `[0, 1)`.
        ///
        /// ```
        #[doc = concat!("use shaped::optim::{", $ty, ", Optimizer};")]
        /// use shaped::Tensor;
        /// let mut p = Tensor::from([1.0]);
        #[doc = concat!("let mut opt = ", $ty, "::new(&p, 0.1).betas(0.0, 0.0).weight_decay(0.0);")]
        /// // beta1 = beta2 = 0: m = g, v = g^2, so each step is lr g / |g| = 0.1 (up to eps)
        /// opt.step(&mut p, &Tensor::from([4.0]));
        /// opt.step(&mut p, &Tensor::from([-0.5]));
        /// approx::assert_relative_eq!(p.to_vec()[0], 1.0, epsilon = 1e-6);
        /// ```
        #[must_use]
        pub fn betas(mut self, beta1: M::Elem, beta2: M::Elem) -> Self {
            check("beta1", beta1, unit(beta1));
            check("beta2", beta2, unit(beta2));
            self.0.beta1 = beta1;
            self.0.beta2 = beta2;
            self
        }

        super::setter!(
            /// The term added to the denominator for numerical stability (default 1e-8). Panics
            /// if negative.
            ///
            /// ```
            #[doc = concat!("use shaped::optim::{", $ty, ", Optimizer};")]
            /// use shaped::Tensor;
            /// let mut p = Tensor::from([1.0]);
            #[doc = concat!("let mut opt = ", $ty, "::new(&p, 0.1).eps(1.0).weight_decay(0.0);")]
            /// // first step with g = 1: the corrected m and v are 1, so p -= 0.1 * 1 / (1 + eps)
            /// opt.step(&mut p, &Tensor::from([1.0]));
            /// approx::assert_relative_eq!(p.to_vec()[0], 0.95, epsilon = 1e-9);
            /// ```
            eps, "eps", non_negative
        );

        super::setter!(
            /// The weight decay: for [`Adam`], an L2 term `weight_decay * p` added to the gradient
            /// (default 0); for [`AdamW`], the decoupled shrink `p (1 - lr weight_decay)` before the
            /// step (default 0.01). Panics if negative.
            ///
            /// ```
            /// use shaped::optim::{Adam, AdamW, Optimizer};
            /// use shaped::Tensor;
            /// let zero = Tensor::from([0.0]);
            /// // AdamW, zero gradient: only the shrink acts, p = 2 (1 - 0.1 * 0.5)
            /// let mut p = Tensor::from([2.0]);
            /// AdamW::new(&p, 0.1).weight_decay(0.5).step(&mut p, &zero);
            /// assert_eq!(p.to_vec(), vec![1.9]);
            /// // Adam, zero gradient: g = 0.5 * 2 = 1 makes a first step of about lr = 0.1 against it
            /// let mut q = Tensor::from([2.0]);
            /// Adam::new(&q, 0.1).weight_decay(0.5).step(&mut q, &zero);
            /// approx::assert_relative_eq!(q.to_vec()[0], 1.9, epsilon = 1e-6);
            /// // with no decay, a zero gradient leaves the parameter where it is
            /// AdamW::new(&p, 0.1).weight_decay(0.0).step(&mut p, &zero);
            /// assert_eq!(p.to_vec(), vec![1.9]);
            /// ```
            weight_decay, "weight decay", non_negative
        );
    };
}

/// Adam, with the update rule of `torch.optim.Adam` (weight decay as an L2 term added to the gradient):
///
/// ```text
/// t = t + 1;  g = grad + weight_decay * p
/// m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
/// p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
/// ```
///
/// ```
/// use shaped::optim::{Adam, Optimizer};
/// use shaped::Tensor;
///
/// let mut p = Tensor::from([1.0, -1.0]);
/// let mut adam = Adam::new(&p, 0.1);
/// // The first step moves each parameter by about lr against the sign of its gradient.
/// adam.step(&mut p, &Tensor::from([3.0, -0.01]));
/// approx::assert_relative_eq!(p, Tensor::from([0.9, -0.9]), epsilon = 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Adam<M: Module>(Moments<M::Elem, false>, PhantomData<fn() -> M>);

impl<M: Module> Adam<M> {
    /// Adam with learning rate `lr` (PyTorch's default is 1e-3) for models of `model`'s type.
    ///
    /// Panics if `lr` is negative or not finite.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::optim::{Adam, Optimizer};
    /// use shaped::{Module, Tensor};
    /// let mut layer = Linear::from_weights(Tensor::from([[1.0, 1.0]]), Some(Tensor::from([0.0])));
    /// let mut adam = Adam::new(&layer, 0.01);
    /// assert_eq!(adam.lr(), 0.01);
    /// let (_, g) = layer.value_and_grad(|l| l.forward(Tensor::from([2.0, -3.0])).sum()); // d/dW = x
    /// adam.step(&mut layer, &g); // the first step: about lr against each gradient's sign
    /// approx::assert_relative_eq!(layer.weight, Tensor::from([[0.99, 1.01]]), epsilon = 1e-6);
    /// ```
    #[must_use]
    pub fn new(model: &M, lr: M::Elem) -> Self {
        Self(Moments::new(model, lr, M::Elem::zero()), PhantomData)
    }

    adam_settings!("Adam");
}

impl<M: Module> Optimizer<M> for Adam<M> {
    fn step(&mut self, model: &mut M, grads: &M::Grads) {
        self.0.step(model, grads);
    }

    /// Sets `beta1`.
    ///
    /// ```
    /// use shaped::optim::{Adam, Optimizer};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([1.0]);
    /// let mut adam = Adam::new(&p, 0.1);
    /// adam.set_momentum(0.0); // beta1 = 0: m is the last gradient
    /// adam.step(&mut p, &Tensor::from([1.0]));
    /// adam.step(&mut p, &Tensor::from([-1.0])); // m = -1: a step of about lr back
    /// approx::assert_relative_eq!(p.to_vec()[0], 1.0, epsilon = 1e-6);
    /// ```
    fn set_momentum(&mut self, beta1: M::Elem) {
        check("beta1", beta1, unit(beta1));
        self.0.beta1 = beta1;
    }

    super::common_methods!();
}

/// AdamW: Adam with decoupled weight decay (`p = p (1 - lr weight_decay)` before the Adam step), the
/// update rule of `torch.optim.AdamW`. Weight decay defaults to 0.01, as in PyTorch.
///
/// ```
/// use shaped::optim::{AdamW, Optimizer};
/// use shaped::Tensor;
///
/// let mut p = Tensor::from([2.0]);
/// let mut opt = AdamW::new(&p, 0.1).weight_decay(0.5);
/// opt.step(&mut p, &Tensor::from([0.0]));
/// // zero gradient: only the decay acts, p = 2 (1 - 0.1 * 0.5)
/// assert_eq!(p.to_vec(), vec![1.9]);
/// ```
#[derive(Clone, Debug)]
pub struct AdamW<M: Module>(Moments<M::Elem, true>, PhantomData<fn() -> M>);

impl<M: Module> AdamW<M> {
    /// AdamW with learning rate `lr` and weight decay 0.01 for models of `model`'s type.
    ///
    /// Panics if `lr` is negative or not finite.
    ///
    /// ```
    /// use shaped::optim::{AdamW, Optimizer};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([10.0]);
    /// let mut opt = AdamW::new(&p, 0.1);
    /// opt.step(&mut p, &Tensor::from([0.0]));
    /// // the default decay 0.01 alone: p = 10 (1 - 0.1 * 0.01)
    /// approx::assert_relative_eq!(p.to_vec()[0], 9.99, epsilon = 1e-12);
    /// ```
    #[must_use]
    pub fn new(model: &M, lr: M::Elem) -> Self {
        Self(
            Moments::new(model, lr, M::Elem::from_f64_lossy(0.01)),
            PhantomData,
        )
    }

    adam_settings!("AdamW");
}

impl<M: Module> Optimizer<M> for AdamW<M> {
    fn step(&mut self, model: &mut M, grads: &M::Grads) {
        self.0.step(model, grads);
    }

    /// Sets `beta1`.
    ///
    /// ```should_panic
    /// use shaped::optim::{AdamW, Optimizer};
    /// use shaped::Tensor;
    /// let mut opt = AdamW::new(&Tensor::from([1.0]), 0.1);
    /// opt.set_momentum(1.0); // beta1 must be in [0, 1)
    /// ```
    ///
    /// ```
    /// use shaped::optim::{AdamW, Optimizer};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([1.0]);
    /// let mut opt = AdamW::new(&p, 0.1).weight_decay(0.0);
    /// opt.set_momentum(0.0); // beta1 = 0: m is the last gradient
    /// opt.step(&mut p, &Tensor::from([1.0]));
    /// opt.step(&mut p, &Tensor::from([-1.0])); // m = -1: a step of about lr back
    /// approx::assert_relative_eq!(p.to_vec()[0], 1.0, epsilon = 1e-6);
    /// ```
    fn set_momentum(&mut self, beta1: M::Elem) {
        check("beta1", beta1, unit(beta1));
        self.0.beta1 = beta1;
    }

    super::common_methods!();
}
