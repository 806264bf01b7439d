//! Optimizers with PyTorch's update rules: [`Sgd`] (momentum, Nesterov, weight decay), [`Adam`],
//! [`AdamW`], [`RMSprop`] and [`Adagrad`]; learning-rate schedules ([`schedule`]); clipping and
//! accumulating gradients ([`Gradients`]); freezing parameters.
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
//!
//! # Freezing
//! [`opt.freeze("l1.weight")`](Optimizer::freeze) stops the optimizer from updating a parameter,
//! named as in [`Module::params`] (a prefix such as `"l1"` freezes every parameter under it), until
//! [`unfreeze`](Optimizer::unfreeze): its values, its state (moments, buffers) and its own step count
//! stay as they are, as when a PyTorch parameter has no gradient. The model is unchanged: a frozen
//! parameter is saved and loaded with the others. Its gradient is still computed; a field that does
//! not use the model's tracking parameter is frozen for good and costs no gradient.

mod adagrad;
mod adam;
mod grads;
mod params;
mod rmsprop;
pub mod schedule;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::{Adam, AdamW};
pub use grads::Gradients;
pub use rmsprop::RMSprop;
pub use sgd::Sgd;

use crate::{Error, Module};

/// Updates a model's parameters from gradients of that model's type; implemented by [`Sgd`],
/// [`Adam`], [`AdamW`], [`RMSprop`] and [`Adagrad`].
///
/// Besides [`step`](Optimizer::step): the learning rate and momentum that a
/// [schedule](schedule::Schedule) sets, the number of steps taken, and freezing parameters by name
/// (see the [module docs](self#freezing)).
pub trait Optimizer<M: Module> {
    /// One update of every parameter of `model` that is not [frozen](Optimizer::freeze), from
    /// `grads`.
    ///
    /// # Panics
    /// If `model` does not have the parameters (their number and sizes) of the model the optimizer
    /// was made for: another number of optional parts present (a layer's bias), or other run-time
    /// sizes.
    ///
    /// ```
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([1.0, 2.0]);
    /// let mut opt = Sgd::new(&p, 0.5);
    /// opt.step(&mut p, &Tensor::from([1.0, -1.0])); // p - 0.5 g
    /// assert_eq!(p.to_vec(), vec![0.5, 2.5]);
    /// ```
    fn step(&mut self, model: &mut M, grads: &M::Grads);

    /// The learning rate.
    ///
    /// ```
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::{Rank1, Tensor};
    /// let opt = Sgd::new(&Tensor::<Rank1<2>>::zeros(), 0.1);
    /// assert_eq!(opt.lr(), 0.1);
    /// ```
    #[must_use]
    fn lr(&self) -> M::Elem;

    /// Changes the learning rate (what a schedule does before each step).
    ///
    /// # Panics
    /// If `lr` is negative or not finite.
    ///
    /// ```
    /// use shaped::optim::{Adam, Optimizer};
    /// use shaped::{Rank1, Tensor};
    /// let mut opt = Adam::new(&Tensor::<Rank1<2>>::zeros(), 0.1);
    /// opt.set_lr(0.01);
    /// assert_eq!(opt.lr(), 0.01);
    /// ```
    fn set_lr(&mut self, lr: M::Elem);

    /// Changes the momentum: [`Sgd`]'s and [`RMSprop`]'s momentum, [`Adam`]'s and [`AdamW`]'s
    /// `beta1`, as PyTorch's `OneCycleLR` cycles them.
    ///
    /// # Panics
    /// If the value is not valid for the setting (negative; for `beta1`, outside `[0, 1)`), and
    /// always for [`Adagrad`], which has no momentum.
    ///
    /// ```
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([1.0]);
    /// let mut opt = Sgd::new(&p, 0.1);
    /// opt.set_momentum(0.5);
    /// opt.step(&mut p, &Tensor::from([1.0])); // the first step: buf = g
    /// opt.step(&mut p, &Tensor::from([1.0])); // buf = 0.5 * 1 + 1
    /// assert_eq!(p.to_vec(), vec![1.0 - 0.1 - 0.15]);
    /// ```
    fn set_momentum(&mut self, momentum: M::Elem);

    /// The number of calls of [`step`](Optimizer::step) so far: the step that [`Schedule::apply`](schedule::Schedule::apply) sets the learning rate for.
    ///
    /// ```
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([1.0]);
    /// let mut opt = Sgd::new(&p, 0.1);
    /// opt.step(&mut p, &Tensor::from([1.0]));
    /// assert_eq!(opt.step_count(), 1);
    /// ```
    #[must_use]
    fn step_count(&self) -> usize;

    /// Freezes the parameter called `name` (as in [`Module::params`]), or every parameter under
    /// it (`"l1"` for `l1.weight` and `l1.bias`): [`step`](Optimizer::step) leaves its values and
    /// its state as they are until [`unfreeze`](Optimizer::unfreeze).
    ///
    /// # Errors
    /// [`ErrorKind::Missing`](crate::ErrorKind::Missing) when no parameter has that name or lies
    /// under it; the message lists the parameters.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::optim::{Adam, Optimizer};
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// use shaped::{Module, Tensor};
    ///
    /// let mut layer: Linear<2, 1, f64> = Linear::new(&mut StdRng::seed_from_u64(0));
    /// let weight = layer.weight.clone();
    /// let mut opt = Adam::new(&layer, 0.1);
    /// opt.freeze("weight")?;
    /// let grads = layer.zeros_like();
    /// opt.step(&mut layer, &grads);
    /// assert_eq!(layer.weight, weight);
    /// assert_eq!(opt.frozen(), ["weight"]);
    /// let err = opt.freeze("l1").unwrap_err();
    /// assert_eq!(err.to_string(), "the model has no parameter `l1` nor any under it; its parameters are `weight`, `bias`");
    /// # Ok::<(), shaped::Error>(())
    /// ```
    fn freeze(&mut self, name: &str) -> Result<(), Error>;

    /// Lets [`step`](Optimizer::step) update the parameter called `name` (or every parameter under
    /// it) again, from the values and state it was frozen with.
    ///
    /// # Errors
    /// As [`freeze`](Optimizer::freeze).
    ///
    /// ```
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([1.0]);
    /// let mut opt = Sgd::new(&p, 0.5);
    /// opt.freeze("")?; // a model that is one tensor: its parameter's name is empty
    /// opt.step(&mut p, &Tensor::from([1.0]));
    /// opt.unfreeze("")?;
    /// opt.step(&mut p, &Tensor::from([1.0]));
    /// assert_eq!(p.to_vec(), vec![0.5]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    fn unfreeze(&mut self, name: &str) -> Result<(), Error>;

    /// The names of the frozen parameters, in field order.
    ///
    /// ```
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::{Rank1, Tensor};
    /// let opt = Sgd::new(&Tensor::<Rank1<2>>::zeros(), 0.1);
    /// assert!(opt.frozen().is_empty());
    /// ```
    #[must_use]
    fn frozen(&self) -> Vec<String>;
}

/// The methods of [`Optimizer`] that every optimizer here writes the same way, for a wrapper
/// `Name<M>(state, PhantomData)` whose state has the fields `lr` and `params`.
macro_rules! common_methods {
    () => {
        fn lr(&self) -> M::Elem {
            self.0.lr
        }

        fn set_lr(&mut self, lr: M::Elem) {
            super::params::check("learning rate", lr, super::params::valid_lr(lr));
            self.0.lr = lr;
        }

        fn step_count(&self) -> usize {
            self.0.params.count
        }

        fn freeze(&mut self, name: &str) -> Result<(), crate::Error> {
            self.0.params.set_frozen(name, true)
        }

        fn unfreeze(&mut self, name: &str) -> Result<(), crate::Error> {
            self.0.params.set_frozen(name, false)
        }

        fn frozen(&self) -> Vec<String> {
            self.0.params.frozen_names()
        }
    };
}
use common_methods;

/// A builder method of an optimizer `Name<M>(state, PhantomData)` that sets the field `$name` of
/// its state after checking it with `$valid` (panicking with `invalid $what: value`).
macro_rules! setter {
    ($(#[$attr:meta])* $name:ident, $what:literal, $valid:path) => {
        $(#[$attr])*
        #[must_use]
        pub fn $name(mut self, $name: M::Elem) -> Self {
            super::params::check($what, $name, $valid($name));
            self.0.$name = $name;
            self
        }
    };
}
use setter;
