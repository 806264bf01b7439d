//! Optimizers with PyTorch's update rules: [`Sgd`] (momentum, Nesterov, weight decay), [`Adam`],
//! [`AdamW`], [`RMSprop`] and [`Adagrad`]; learning-rate schedules ([`schedule`]); clipping and
//! accumulating gradients ([`Gradients`]); freezing parameters; checkpoints of the optimizer's state.
//!
//! An optimizer is made for one model type and its [`step`](Optimizer::step) takes that model and
//! gradients of *that model's* gradient type, so handing it another model's gradients is a compile
//! error, and so is a gradient struct with a parameter missing.
//!
//! ```
//! use shaped::optim::{Optimizer, Sgd};
//! use shaped::{Module, Rank1, Tensor};
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
//! parameter is saved and loaded with the others. Its gradient is still computed.
//!
//! A field of the model marked `#[module(frozen)]` ([`Module::frozen_params`]) is frozen for good:
//! it is not put on the tape (its gradient reads as zeros and costs nothing), every optimizer
//! leaves it exactly as it is (no weight decay, no momentum: it has no state), it is listed by
//! [`frozen`](Optimizer::frozen) from the start, and [`unfreeze`](Optimizer::unfreeze) does not
//! reach it.
//!
//! ```
//! use shaped::nn::Linear;
//! use shaped::optim::{AdamW, Optimizer};
//! use shaped::rand::{SeedableRng, rngs::StdRng};
//! use shaped::{Module, NoTape, Tensor, Tracking};
//!
//! #[derive(Module)]
//! struct FineTune<T: Tracking<f64> = NoTape> {
//!     #[module(frozen)]
//!     body: Linear<2, 2, f64>,
//!     head: Linear<2, 1, f64, T>,
//! }
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut model = FineTune { body: Linear::new(&mut rng), head: Linear::new(&mut rng) };
//! let (body, head) = (model.body.weight.clone(), model.head.weight.clone());
//! let mut opt = AdamW::new(&model, 0.1); // weight decay 0.01
//! assert_eq!(opt.frozen(), ["body.weight", "body.bias"]);
//! let x = Tensor::from([1.0, -2.0]);
//! for _ in 0..3 {
//!     let (_, g) = model.value_and_grad(|m| m.head.forward(m.body.forward(x.clone())).sum());
//!     assert_eq!(g.body.weight, Tensor::zeros()); // a frozen field's gradient is zero
//!     opt.step(&mut model, &g);
//! }
//! assert_eq!(model.body.weight, body); // untouched, to the bit
//! assert_ne!(model.head.weight, head);
//! let err = opt.unfreeze("body").unwrap_err();
//! assert!(err.to_string().starts_with("cannot unfreeze `body`: it is frozen in the model"));
//! ```
//!
//! # Checkpoints
//! [`opt.save(path)`](Optimizer::save) writes the optimizer's state to a safetensors file, and
//! [`opt.load(path)`](Optimizer::load) reads it into an optimizer of the same kind made for a model
//! with the same parameter names and shapes; saving the model and the optimizer after some steps and
//! loading both into new objects goes on exactly as if training had not stopped. The file holds,
//! close to PyTorch's optimizer `state_dict` but with parameters named instead of numbered:
//! - for every parameter `p`, a tensor `step.p` (an `i64` scalar): the updates `p` has had;
//! - the update rule's buffers of `p`, in the element type and with the shape of `p`, named as in
//!   PyTorch: `momentum_buffer.p` ([`Sgd`], [`RMSprop`] with momentum), `exp_avg.p` and
//!   `exp_avg_sq.p` ([`Adam`], [`AdamW`]), `square_avg.p` and `grad_avg.p` (centered [`RMSprop`]),
//!   `sum.p` ([`Adagrad`]). A buffer is there once the parameter's first update has made it;
//! - the settings, as text in the file's metadata: `optimizer` (`"Adam"`, ...), `lr` and the other
//!   settings under PyTorch's names (`beta1` and `beta2` for `betas`), `step_count` (the calls of
//!   `step`, which schedules read) and `frozen` (the frozen parameters' names, comma-separated).
//!
//! ```
//! use shaped::optim::{Adam, Optimizer};
//! use shaped::{ErrorKind, Module, Rank1, Tensor};
//!
//! let mut w: Tensor<Rank1<2>, f64> = Tensor::from([1.0, 2.0]);
//! let mut opt = Adam::new(&w, 0.1);
//! opt.step(&mut w, &Tensor::from([0.5, -0.5]));
//! let (model, state) = (w.to_safetensors(), opt.to_safetensors());
//!
//! // Later: fresh objects, loaded, take the same next step as the first ones.
//! let mut w2: Tensor<Rank1<2>, f64> = Tensor::zeros();
//! let mut opt2 = Adam::new(&w2, 0.5); // its settings come from the file
//! w2.load_safetensors(&model)?;
//! opt2.load_safetensors(&state)?;
//! assert_eq!((opt2.lr(), opt2.step_count()), (0.1, 1));
//! opt.step(&mut w, &Tensor::from([0.25, 0.25]));
//! opt2.step(&mut w2, &Tensor::from([0.25, 0.25]));
//! assert_eq!(w, w2);
//!
//! // The state of a model with other parameters does not load.
//! let other: Tensor<Rank1<3>, f64> = Tensor::zeros();
//! let err = Adam::new(&other, 0.1).load_safetensors(&state).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Shape);
//! assert_eq!(
//!     err.to_string(),
//!     "cannot load the Adam state: tensor `exp_avg` has shape [2] in the file, the optimizer \
//!      needs [3]; tensor `exp_avg_sq` has shape [2] in the file, the optimizer needs [3]"
//! );
//! # Ok::<(), shaped::Error>(())
//! ```

mod adagrad;
mod adam;
mod grads;
mod params;
mod rmsprop;
pub mod schedule;
mod sgd;
mod state;

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
/// [schedule](schedule::Schedule) sets, the number of steps taken, freezing parameters by name,
/// and saving and loading the state (see the [module docs](self) for both).
///
/// ```
/// use shaped::optim::{Adam, Optimizer, Sgd};
/// use shaped::{Module, Rank1, Tensor};
/// // any optimizer: minimize sum((p - 3)^2) from p = 0
/// fn fit(opt: &mut impl Optimizer<Tensor<Rank1<1>, f64>>) -> f64 {
///     let mut p = Tensor::from([0.0]);
///     for _ in 0..200 {
///         let (_, g) = p.value_and_grad(|p| (p - 3.0).powi(2).sum());
///         opt.step(&mut p, &g);
///     }
///     p.to_vec()[0]
/// }
/// let like = Tensor::<Rank1<1>, f64>::zeros();
/// assert!((fit(&mut Sgd::new(&like, 0.1)) - 3.0).abs() < 1e-6);
/// assert!((fit(&mut Adam::new(&like, 0.1)) - 3.0).abs() < 1e-2);
/// ```
pub trait Optimizer<M: Module> {
    /// One update of every parameter of `model` that is not [frozen](Optimizer::freeze), from
    /// `grads`.
    ///
    /// # Panics
    /// If `model` does not have the parameters (their number and sizes) of the model the optimizer
    /// was made for: another number of optional parts present (a layer's bias), or other run-time
    /// sizes; likewise if `grads` has other run-time sizes than the parameters.
    ///
    /// A step that panics changes nothing: every parameter and gradient is checked before any is
    /// updated, so the parameters, the optimizer's state (its per-parameter buffers and update
    /// counts) and its [`step_count`](Optimizer::step_count) are left as they were, and the next
    /// step of the right size is the one it would have been without the failed one.
    ///
    /// ```
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::Tensor;
    /// let mut p = Tensor::from([1.0, 2.0]);
    /// let mut opt = Sgd::new(&p, 0.5);
    /// opt.step(&mut p, &Tensor::from([1.0, -1.0])); // p - 0.5 g
    /// assert_eq!(p.to_vec(), vec![0.5, 2.5]);
    /// ```
    ///
    /// A model of two parameters, the second of a run-time size, and gradients whose second is
    /// of another size: the first parameter, which comes first and fits, is not updated either.
    ///
    /// ```
    /// use std::panic::{AssertUnwindSafe, catch_unwind};
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::Tensor;
    /// let b: Tensor<(usize,), f64> = Tensor::from_vec_with((1,), vec![3.0])?;
    /// let mut model = (Tensor::from([1.0, 2.0]), b);
    /// let mut opt = Sgd::new(&model, 0.5).momentum(0.9);
    /// let wrong = (Tensor::from([1.0, -1.0]), Tensor::from_vec_with((2,), vec![1.0; 2])?);
    /// assert!(catch_unwind(AssertUnwindSafe(|| opt.step(&mut model, &wrong))).is_err());
    /// assert_eq!((model.0.to_vec(), opt.step_count()), (vec![1.0, 2.0], 0));
    /// // The next step is a first one (momentum buffer = g, no 0.9 g from the failed step):
    /// // p - 0.5 g.
    /// let right = (Tensor::from([1.0, -1.0]), Tensor::from_vec_with((1,), vec![2.0])?);
    /// opt.step(&mut model, &right);
    /// assert_eq!((model.0.to_vec(), model.1.to_vec()), (vec![0.5, 2.5], vec![2.0]));
    /// # Ok::<(), shaped::Error>(())
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

    /// The number of calls of [`step`](Optimizer::step) so far (loaded with the state): the step
    /// that [`Schedule::apply`](schedule::Schedule::apply) sets the learning rate for.
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

    /// The state and settings in the safetensors format (the layout is in the
    /// [module docs](self#checkpoints)).
    ///
    /// ```
    /// use shaped::optim::{Optimizer, RMSprop};
    /// use shaped::{Rank1, Tensor};
    /// let mut p: Tensor<Rank1<2>, f64> = Tensor::ones();
    /// let mut opt = RMSprop::new(&p, 0.01).alpha(0.5);
    /// opt.step(&mut p, &Tensor::from([1.0, 2.0]));
    /// let state = opt.to_safetensors();
    /// let v: Tensor<Rank1<2>, f64> = Tensor::from_safetensors(&state, "square_avg")?;
    /// assert_eq!(v.to_vec(), vec![0.5, 2.0]); // (1 - alpha) g^2
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    fn to_safetensors(&self) -> Vec<u8>;

    /// Replaces the state and the settings with those in a safetensors buffer written by
    /// [`to_safetensors`](Optimizer::to_safetensors) of the same kind of optimizer, for a model
    /// with the same parameters. All or nothing: on any error the optimizer is left as it was.
    ///
    /// # Errors
    /// [`ErrorKind::Format`](crate::ErrorKind::Format) when the buffer is not safetensors or holds
    /// no optimizer state, or that of another kind of optimizer; otherwise one error naming every
    /// problem found, of the kind of the first: a tensor missing
    /// ([`Missing`](crate::ErrorKind::Missing)), one that the model's parameters do not explain
    /// ([`Unexpected`](crate::ErrorKind::Unexpected)), another shape
    /// ([`Shape`](crate::ErrorKind::Shape)) or element type ([`Dtype`](crate::ErrorKind::Dtype)),
    /// a setting that is missing, not a number ([`Parse`](crate::ErrorKind::Parse)) or invalid
    /// ([`OutOfRange`](crate::ErrorKind::OutOfRange)).
    ///
    /// ```
    /// use shaped::optim::{Adagrad, Optimizer, Sgd};
    /// use shaped::{Module, Rank1, Tensor};
    /// let p: Tensor<Rank1<2>> = Tensor::zeros();
    /// let state = Sgd::new(&p, 0.1).to_safetensors();
    /// let err = Adagrad::new(&p, 0.1).load_safetensors(&state).unwrap_err();
    /// assert_eq!(err.to_string(), "the file holds the state of Sgd, not of Adagrad");
    /// let err = Sgd::new(&p, 0.1).load_safetensors(&p.to_safetensors()).unwrap_err();
    /// assert!(err.to_string().starts_with("the file holds no optimizer state"));
    /// ```
    fn load_safetensors(&mut self, bytes: &[u8]) -> Result<(), Error>;

    /// Writes the state and settings to a safetensors file.
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be written.
    ///
    /// ```
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::{Rank1, Tensor};
    /// let p: Tensor<Rank1<2>> = Tensor::zeros();
    /// let path = std::env::temp_dir().join("shaped_doc_optimizer_save.safetensors");
    /// Sgd::new(&p, 0.1).save(&path)?;
    /// let mut opt = Sgd::new(&p, 0.5);
    /// opt.load(&path)?;
    /// assert_eq!(opt.lr(), 0.1);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), shaped::Error>(())
    /// ```
    fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error>
    where
        Self: Sized,
    {
        crate::io::write_file(path.as_ref(), &self.to_safetensors())
    }

    /// Replaces the state and settings with those of a safetensors file, all or nothing (see
    /// [`load_safetensors`](Optimizer::load_safetensors)).
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be read, and every error of
    /// [`load_safetensors`](Optimizer::load_safetensors).
    ///
    /// ```
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::{ErrorKind, Rank1, Tensor};
    /// let mut opt = Sgd::new(&Tensor::<Rank1<2>>::zeros(), 0.1);
    /// let err = opt.load("no/such/file.safetensors").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Io);
    /// ```
    fn load(&mut self, path: impl AsRef<std::path::Path>) -> Result<(), Error>
    where
        Self: Sized,
    {
        let bytes = crate::io::read_file(path.as_ref())?;
        self.load_safetensors(&bytes)
    }
}

/// The methods of [`Optimizer`] that every optimizer here writes the same way, for a wrapper
/// `Name<M>(state, PhantomData)` whose state has the fields `lr` and `params` and implements
/// `state::Stateful`.
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

        fn to_safetensors(&self) -> Vec<u8> {
            super::state::save(&self.0)
        }

        fn load_safetensors(&mut self, bytes: &[u8]) -> Result<(), crate::Error> {
            super::state::load(&mut self.0, bytes)
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

/// `impl Stateful` for an optimizer's state with the fields `params`, `slots` and one field per
/// setting, named as the setting (PyTorch's name): `stateful!(State<E>, "Name", { lr: float(valid),
/// centered: flag })`, with `, const C: bool` after `E` for a state with a flag parameter.
macro_rules! stateful {
    (
        $state:ident<E $(, const $c:ident: bool)?>, $name:expr,
        { $($key:ident: $kind:ident $(($valid:path))?),* $(,)? }
    ) => {
        impl<E: crate::Element $(, const $c: bool)?> super::state::Stateful<E>
            for $state<E $(, $c)?>
        {
            const NAME: &'static str = $name;

            fn parts(&self) -> (&super::params::Params, &[super::params::Slot<E>]) {
                (&self.params, &self.slots)
            }

            fn parts_mut(&mut self) -> (&mut super::params::Params, &mut [super::params::Slot<E>]) {
                (&mut self.params, &mut self.slots)
            }

            fn settings(&self) -> Vec<(&'static str, String)> {
                vec![$((stringify!($key), self.$key.to_string())),*]
            }

            fn load_settings(&mut self, s: &mut super::state::Settings<'_>) {
                $(self.$key = s.$kind(stringify!($key) $(, $valid)?);)*
            }
        }
    };
}
use stateful;
