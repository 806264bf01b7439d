//! Stochastic gradient descent, as `torch.optim.SGD`.

use core::marker::PhantomData;

use num_traits::{Float, One, Zero};

use super::{FlatState, Optimizer};
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
pub struct Sgd<M: Module> {
    lr: M::Elem,
    momentum: M::Elem,
    dampening: M::Elem,
    nesterov: bool,
    weight_decay: M::Elem,
    buf: Option<FlatState<M::Elem>>,
    model: PhantomData<fn() -> M>,
}

impl<M: Module> Sgd<M> {
    /// Plain SGD with learning rate `lr` for models of `model`'s type.
    ///
    /// Panics if `lr` is negative or not finite.
    #[must_use]
    pub fn new(model: &M, lr: M::Elem) -> Self {
        let _ = model;
        check("learning rate", lr, lr >= M::Elem::zero() && lr.is_finite());
        let zero = M::Elem::zero();
        Self {
            lr,
            momentum: zero,
            dampening: zero,
            nesterov: false,
            weight_decay: zero,
            buf: None,
            model: PhantomData,
        }
    }

    /// Momentum factor (default 0). Panics if negative.
    #[must_use]
    pub fn momentum(mut self, momentum: M::Elem) -> Self {
        check("momentum", momentum, momentum >= M::Elem::zero());
        self.momentum = momentum;
        self
    }

    /// Dampening of the momentum (default 0).
    #[must_use]
    pub fn dampening(mut self, dampening: M::Elem) -> Self {
        self.dampening = dampening;
        self
    }

    /// Nesterov momentum (default off). Needs a positive momentum and zero dampening, as in PyTorch;
    /// checked at the first [`step`](Optimizer::step).
    #[must_use]
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// L2 penalty added to the gradient (default 0). Panics if negative.
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: M::Elem) -> Self {
        check(
            "weight decay",
            weight_decay,
            weight_decay >= M::Elem::zero(),
        );
        self.weight_decay = weight_decay;
        self
    }

    /// The learning rate.
    #[must_use]
    pub fn lr(&self) -> M::Elem {
        self.lr
    }

    /// Changes the learning rate (for a schedule).
    pub fn set_lr(&mut self, lr: M::Elem) {
        check("learning rate", lr, lr >= M::Elem::zero() && lr.is_finite());
        self.lr = lr;
    }
}

pub(super) fn check<E: Element>(what: &str, value: E, ok: bool) {
    assert!(ok, "invalid {what}: {value}");
}

impl<M: Module> Optimizer<M> for Sgd<M> {
    fn step(&mut self, model: &mut M, grads: &M::Grads) {
        let (lr, momentum, wd) = (self.lr, self.momentum, self.weight_decay);
        let zero = M::Elem::zero();
        assert!(
            !self.nesterov || (momentum > zero && self.dampening == zero),
            "nesterov momentum requires a momentum and zero dampening"
        );
        if momentum == zero {
            model.zip_mut(grads, &mut |p, g| {
                for (p, &g) in p.iter_mut().zip(g) {
                    let g = g + wd * *p;
                    *p -= lr * g;
                }
            });
            return;
        }
        let (nesterov, keep) = (self.nesterov, M::Elem::one() - self.dampening);
        let first = self.buf.is_none();
        let buf = self.buf.get_or_insert_with(|| FlatState::zeros(model));
        buf.zip(model, grads, |p, g, b| {
            for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
                let g = g + wd * *p;
                *b = if first { g } else { momentum * *b + keep * g };
                let d = if nesterov { g + momentum * *b } else { *b };
                *p -= lr * d;
            }
        });
    }
}
