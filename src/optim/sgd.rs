//! Stochastic gradient descent, as `torch.optim.SGD`.

use core::marker::PhantomData;

use multiversion::multiversion;
use num_traits::{One, Zero};

use super::Optimizer;
use super::params::{Params, Slot, check, finite, non_negative, valid_lr};
use crate::gemm::in_two_parts;
use crate::{Element, Module};

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay; the
/// update rule of `torch.optim.SGD`:
///
/// ```text
/// g = grad + weight_decay * p
/// if momentum != 0:
///     buf = g                                       (first step)
///     buf = momentum * buf + (1 - dampening) * g    (later steps)
///     g = g + momentum * buf   if nesterov   else   buf
/// p = p - lr * g
/// ```
///
/// ```
/// use shaped::optim::{Optimizer, Sgd};
/// use shaped::Tensor;
///
/// let mut p = Tensor::from([1.0, -2.0]);
/// let g = Tensor::from([0.5, 0.5]);
/// let mut sgd = Sgd::new(&p, 0.1).momentum(0.9);
/// sgd.step(&mut p, &g); // buf = g;             p = p - 0.1 * 0.5
/// assert_eq!(p.to_vec(), vec![0.95, -2.05]);
/// sgd.step(&mut p, &g); // buf = 0.9 * 0.5 + 0.5 = 0.95
/// approx::assert_relative_eq!(p, Tensor::from([0.855, -2.145]), epsilon = 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<M: Module>(SgdState<M::Elem>, PhantomData<fn() -> M>);

#[derive(Clone, Debug)]
pub(crate) struct SgdState<E: Element> {
    lr: E,
    momentum: E,
    dampening: E,
    nesterov: bool,
    weight_decay: E,
    params: Params,
    /// `momentum_buffer`, made at a parameter's first step with momentum.
    slots: [Slot<E>; 1],
}

impl<M: Module> Sgd<M> {
    /// Plain SGD with learning rate `lr` for models of `model`'s type.
    ///
    /// Panics if `lr` is negative or not finite.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::{Module, Tensor};
    /// let mut layer = Linear::from_weights(Tensor::from([[1.0, 1.0]]), Some(Tensor::from([0.0])));
    /// let mut opt = Sgd::new(&layer, 0.1);
    /// let (_, g) = layer.value_and_grad(|l| l.forward(Tensor::from([2.0, 3.0])).sum()); // d/dW = x, d/db = 1
    /// opt.step(&mut layer, &g); // p - 0.1 g
    /// approx::assert_relative_eq!(layer.weight, Tensor::from([[0.8, 0.7]]), epsilon = 1e-12);
    /// approx::assert_relative_eq!(layer.bias.unwrap(), Tensor::from([-0.1]), epsilon = 1e-12);
    /// ```
    #[must_use]
    pub fn new(model: &M, lr: M::Elem) -> Self {
        check("learning rate", lr, valid_lr(lr));
        let zero = M::Elem::zero();
        let params = Params::of(model);
        let slots = [Slot::new("momentum_buffer", &params)];
        Self(
            SgdState {
                lr,
                momentum: zero,
                dampening: zero,
                nesterov: false,
                weight_decay: zero,
                params,
                slots,
            },
            PhantomData,
        )
    }

    super::setter!(
        /// Momentum factor (default 0). Panics if negative.
        ///
        /// ```
        /// use shaped::optim::{Optimizer, Sgd};
        /// use shaped::Tensor;
        /// let mut p = Tensor::from([0.0]);
        /// let g = Tensor::from([1.0]);
        /// let mut opt = Sgd::new(&p, 1.0).momentum(0.9);
        /// opt.step(&mut p, &g); // buf = g = 1
        /// opt.step(&mut p, &g); // buf = 0.9 * 1 + 1 = 1.9
        /// approx::assert_relative_eq!(p.to_vec()[0], -2.9, epsilon = 1e-12);
        /// ```
        momentum, "momentum", non_negative
    );

    /// Dampening of the momentum (default 0): later steps add `(1 - dampening) g` to the buffer.
    ///
    /// ```
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([0.0]);
    /// let g = Tensor::from([1.0]);
    /// let mut opt = Sgd::new(&p, 1.0).momentum(0.5).dampening(0.5);
    /// opt.step(&mut p, &g); // the first step: buf = g = 1
    /// opt.step(&mut p, &g); // buf = 0.5 * 1 + 0.5 * 1 = 1
    /// assert_eq!(p.to_vec(), vec![-2.0]);
    /// ```
    #[must_use]
    pub fn dampening(mut self, dampening: M::Elem) -> Self {
        self.0.dampening = dampening;
        self
    }

    /// Nesterov momentum (default off). Needs a positive momentum and zero dampening, as in PyTorch;
    /// checked by every [`step`](Optimizer::step), which panics otherwise (also after a schedule
    /// has set the momentum to 0).
    ///
    /// ```
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([1.0]);
    /// let g = Tensor::from([1.0]);
    /// let mut opt = Sgd::new(&p, 0.1).momentum(0.5).nesterov(true);
    /// opt.step(&mut p, &g); // buf = g = 1; p -= 0.1 (g + 0.5 buf)
    /// approx::assert_relative_eq!(p.to_vec()[0], 0.85, epsilon = 1e-12);
    /// opt.step(&mut p, &g); // buf = 0.5 + 1 = 1.5; p -= 0.1 (1 + 0.75)
    /// approx::assert_relative_eq!(p.to_vec()[0], 0.675, epsilon = 1e-12);
    /// ```
    #[must_use]
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.0.nesterov = nesterov;
        self
    }

    super::setter!(
        /// L2 penalty added to the gradient (default 0). Panics if negative.
        ///
        /// ```
        /// use shaped::optim::{Optimizer, Sgd};
        /// use shaped::Tensor;
        /// let mut p = Tensor::from([2.0]);
        /// let mut opt = Sgd::new(&p, 0.1).weight_decay(0.5);
        /// opt.step(&mut p, &Tensor::from([0.0])); // g = 0 + 0.5 * 2 = 1: p = 2 - 0.1
        /// assert_eq!(p.to_vec(), vec![1.9]);
        /// ```
        weight_decay, "weight decay", non_negative
    );
}

impl<M: Module> Optimizer<M> for Sgd<M> {
    fn step(&mut self, model: &mut M, grads: &M::Grads) {
        let s = &mut self.0;
        let (lr, momentum, wd) = (s.lr, s.momentum, s.weight_decay);
        let zero = M::Elem::zero();
        assert!(
            !s.nesterov || (momentum > zero && s.dampening == zero),
            "nesterov momentum requires a momentum and zero dampening"
        );
        if momentum == zero {
            s.params.update(model, grads, |_, _, dims, p, g| {
                in_two_parts(dims, p, g, [], |p, g, []| plain_step(p, g, lr, wd));
            });
            return;
        }
        let (nesterov, keep) = (s.nesterov, M::Elem::one() - s.dampening);
        let [bufs] = &mut s.slots;
        s.params.update(model, grads, |i, _, dims, p, g| {
            let first = bufs.bufs[i].is_none();
            let buf = bufs.get(i, p.len(), zero);
            in_two_parts(dims, p, g, [buf], |p, g, [buf]| {
                for ((p, &g), b) in p.iter_mut().zip(g).zip(buf.iter_mut()) {
                    let g = g + wd * *p;
                    *b = if first { g } else { momentum * *b + keep * g };
                    let d = if nesterov { g + momentum * *b } else { *b };
                    *p -= lr * d;
                }
            });
        });
    }

    fn set_momentum(&mut self, momentum: M::Elem) {
        check("momentum", momentum, non_negative(momentum));
        self.0.momentum = momentum;
    }

    super::common_methods!();
}

/// `p -= lr (g + wd p)` elementwise: SGD without momentum. Compiled for AVX-512, AVX2 and the
/// baseline, the best chosen at the first call; the operations are the same in each (no fused
/// multiply-add), so the results are too.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
))]
fn plain_step<E: Element>(p: &mut [E], g: &[E], lr: E, wd: E) {
    for (p, &g) in p.iter_mut().zip(g) {
        let g = g + wd * *p;
        *p -= lr * g;
    }
}

super::stateful!(SgdState<E>, "Sgd", {
    lr: float(valid_lr),
    momentum: float(non_negative),
    dampening: float(finite),
    nesterov: flag,
    weight_decay: float(non_negative),
});
