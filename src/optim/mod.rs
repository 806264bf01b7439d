//! Optimizers: [`Sgd`] (momentum, Nesterov, weight decay), [`Adam`] and [`AdamW`], with PyTorch's update
//! rules.
//!
//! An optimizer is made for one model type and its [`step`](Optimizer::step) takes that model and
//! gradients of *that model's* gradient type, so handing it another model's gradients is a compile
//! error, and so is a gradient struct with a parameter missing.
//!
//! ```
//! use shaped::optim::{Optimizer, Sgd};
//! use shaped::{Rank1, Tensor, Trainable};
//!
//! // Fit w so that w . x = 3 for x = [1, 2].
//! let mut w: Tensor<Rank1<2>, f64> = Tensor::zeros();
//! let x = Tensor::from([1.0, 2.0]);
//! let mut opt = Sgd::new(&w, 0.1);
//! for _ in 0..100 {
//!     // `w` is put on a tape (watched), `x` is a constant; the gradients have the type of `w`.
//!     let (_, grads) = w.value_and_grad(|w| {
//!         let err = (w * &x).sum() - 3.0;
//!         &err * &err
//!     });
//!     opt.step(&mut w, &grads);
//! }
//! assert!(((&w * &x).sum().item() - 3.0).abs() < 1e-9);
//! ```

mod adam;
mod sgd;

pub use adam::{Adam, AdamW};
pub use sgd::Sgd;

use crate::Module;

/// Updates a model's parameters from gradients of that model's type.
pub trait Optimizer<M: Module> {
    /// One update of every parameter of `model` from `grads`.
    fn step(&mut self, model: &mut M, grads: &M::Grads);
}

/// The running state of an optimizer: one flat buffer for all parameters, walked in `zip_mut` order.
#[derive(Clone, Debug)]
pub(crate) struct FlatState<E> {
    values: Vec<E>,
}

impl<E: crate::Element> FlatState<E> {
    pub(crate) fn zeros<M: Module<Elem = E>>(model: &M) -> Self {
        Self {
            values: vec![E::zero(); model.param_count()],
        }
    }

    /// Calls `f(param, grad, state)` for every parameter tensor with its slice of this state.
    pub(crate) fn zip<M: Module<Elem = E>>(
        &mut self,
        model: &mut M,
        grads: &M::Grads,
        mut f: impl FnMut(&mut [E], &[E], &mut [E]),
    ) {
        let mut offset = 0;
        model.zip_mut(grads, &mut |p, g| {
            let state = &mut self.values[offset..offset + p.len()];
            offset += p.len();
            f(p, g, state);
        });
    }

    /// Like [`zip`](Self::zip) with two states (Adam's moments).
    pub(crate) fn zip2<M: Module<Elem = E>>(
        a: &mut Self,
        b: &mut Self,
        model: &mut M,
        grads: &M::Grads,
        mut f: impl FnMut(&mut [E], &[E], &mut [E], &mut [E]),
    ) {
        let mut offset = 0;
        model.zip_mut(grads, &mut |p, g| {
            let range = offset..offset + p.len();
            offset += p.len();
            f(p, g, &mut a.values[range.clone()], &mut b.values[range]);
        });
    }
}
