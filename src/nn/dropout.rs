//! `Dropout`: random zeros in training, the identity in evaluation; and [`NoParams`], the gradients
//! of a layer without parameters.
//!
//!
//! The training flag and the reasons for it are described on [`Dropout`].

use core::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::module::{Visit, VisitMut, ZipMut};
use crate::{Element, Grads, Module, Shape, Tensor, Tracking};

/// The gradients of a layer without parameters ([`Dropout`], an activation in a tuple of
/// layers): nothing.
///
/// ```
/// use shaped::nn::{Dropout, NoParams};
/// use shaped::{Module, Tape, Tensor};
/// let drop: Dropout<f64> = Dropout::new(0.5, 0);
/// let tape = Tape::new();
/// let x = tape.watch(&Tensor::from([1.0, 2.0]));
/// let grads = drop.forward(x).sum().backward();
/// let g: NoParams<f64> = drop.grads(&grads);
/// assert_eq!(g.param_count(), 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoParams<E>(PhantomData<E>);

impl<E: Element> Module for NoParams<E> {
    type Elem = E;
    type Grads = Self;
    type HoldsParams = crate::module::No;

    fn visit(&self, _: &mut String, _: &mut Visit<'_, E>) {}

    fn visit_mut(&mut self, _: &mut String, _: &mut VisitMut<'_, E>) {}

    fn zip_mut(&mut self, _: &Self, _: &mut ZipMut<'_, E>) {}

    fn read_grads(&self, _: &Grads<E>, _: bool) -> Self {
        Self(PhantomData)
    }

    fn unused_into(&self, _: &Grads<E>, _: bool, _: &mut String, _: &mut Vec<String>) {}

    fn zeros_like(&self) -> Self {
        Self(PhantomData)
    }
}

/// Dropout, PyTorch's `nn.Dropout(p)`: in training each element is zeroed with probability `p` and
/// the others are scaled by `1 / (1 - p)` (so the expected value is unchanged); in evaluation it is
/// the identity.
///
/// # Training and evaluation
/// A layer that behaves differently in training and in evaluation ([`Dropout`],
/// [`BatchNorm1d`](crate::nn::BatchNorm1d)) keeps its own flag, and [`Module::train`] and
/// [`Module::eval`] set it on every layer of a model: the derive passes the call to every field, as
/// PyTorch's `model.train()` and `model.eval()` visit the sub-modules. Layers start in training
/// mode, as in PyTorch. [`Tape::watch`](crate::Tape::watch) copies the flag, so the model on the
/// tape behaves as the stored one.
///
/// Why a flag in the layer rather than a context argument to `forward` (`model.forward(x, &mut
/// ctx)`, with the mode and the random generator in `ctx`): with an argument, every `forward` of
/// every model, and every layer between the model and a dropout, takes and passes it on, including
/// the models with no dropout at all, and the same model code cannot be written once for models with
/// and without such layers; forgetting to switch the mode is no less possible (the argument is built
/// somewhere too). The flag keeps `forward(x)` one argument everywhere and has no global state: two
/// models in two modes, in two threads, do not see each other.
///
/// The random draws come from the layer's own seeded generator, so a run is reproducible from the
/// seed. The generator is shared by the layer's clones (among them the copy that `tape.watch`
/// makes, whose draws must advance the stored layer's stream); give a layer of another model its own
/// seed.
///
/// Derivative: `dx = dy mask`, the same mask of zeros and `1 / (1 - p)`.
///
/// It has no parameters (its gradients are [`NoParams`]) and its element type is a type parameter,
/// so that it can be a field of any model.
///
/// Edge values: `p = 1` zeroes everything (a NaN or an infinity times 0 gives NaN, as in PyTorch);
/// `p = 0` and evaluation return the input itself.
///
/// ```
/// use shaped::nn::Dropout;
/// use shaped::{Module, Rank1, Tensor};
///
/// let mut drop: Dropout<f64> = Dropout::new(0.5, 42);
/// let x: Tensor<Rank1<8>, f64> = Tensor::ones();
/// let y = drop.forward(x.clone());
/// assert!(y.as_slice().iter().all(|&v| v == 0.0 || v == 2.0)); // dropped, or scaled by 2
/// // The same seed draws the same masks.
/// assert_eq!(Dropout::new(0.5, 42).forward(x.clone()), y);
/// drop.eval();
/// assert_eq!(drop.forward(x.clone()), x);
/// ```
#[derive(Clone, Debug)]
pub struct Dropout<E: Element = f32> {
    p: f64,
    rng: Arc<Mutex<StdRng>>,
    training: bool,
    elem: PhantomData<E>,
}

impl<E: Element> Dropout<E> {
    /// A dropout of probability `p`, its masks drawn from a generator seeded with `seed`, in training
    /// mode.
    ///
    /// # Panics
    /// If `p` is not in `[0, 1]` (the message is PyTorch's: `dropout probability has to be between
    /// 0 and 1, but got 1.5`).
    ///
    /// ```
    /// use shaped::nn::Dropout;
    /// use shaped::{Rank1, Tensor};
    /// let drop: Dropout<f64> = Dropout::new(0.25, 7);
    /// assert_eq!((drop.p(), drop.is_training()), (0.25, true));
    /// let y = drop.forward(Tensor::<Rank1<16>, f64>::ones());
    /// // kept elements are scaled by 1 / (1 - 0.25)
    /// assert!(y.as_slice().iter().all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-12));
    /// ```
    ///
    /// ```should_panic
    /// use shaped::nn::Dropout;
    /// let _: Dropout = Dropout::new(1.5, 0); // dropout probability has to be between 0 and 1
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new(p: f64, seed: u64) -> Self {
        Self::with_rng(p, StdRng::seed_from_u64(seed))
    }

    /// A dropout of probability `p` that draws its masks from `rng`.
    ///
    /// # Panics
    /// If `p` is not in `[0, 1]`.
    ///
    /// ```
    /// use shaped::nn::Dropout;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// let drop: Dropout = Dropout::with_rng(0.1, StdRng::seed_from_u64(0));
    /// assert_eq!(drop.p(), 0.1);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn with_rng(p: f64, rng: StdRng) -> Self {
        check_probability(p);
        Self {
            p,
            rng: Arc::new(Mutex::new(rng)),
            training: true,
            elem: PhantomData,
        }
    }

    /// The probability of a zero.
    ///
    /// ```
    /// use shaped::nn::Dropout;
    /// let drop: Dropout = Dropout::new(0.3, 0);
    /// assert_eq!(drop.p(), 0.3);
    /// ```
    #[must_use]
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Whether the layer is in training mode (see [`Module::train`]).
    ///
    /// ```
    /// use shaped::nn::Dropout;
    /// use shaped::Module;
    /// let mut drop: Dropout = Dropout::new(0.5, 0);
    /// assert!(drop.is_training()); // layers start in training mode
    /// drop.eval();
    /// assert!(!drop.is_training());
    /// drop.train();
    /// assert!(drop.is_training());
    /// ```
    #[must_use]
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// In training, `x` with each element zeroed with probability `p` and the others scaled by
    /// `1 / (1 - p)`; in evaluation, `x`. Any shape, static or with run-time dimensions. The values
    /// are [`dropout_with_mask`]'s for the mask drawn.
    ///
    /// # Panics
    /// Never: the mask has the input's shape by construction.
    ///
    /// ```
    /// use shaped::nn::Dropout;
    /// use shaped::{Const, Module, Tensor};
    /// let mut drop: Dropout<f64> = Dropout::new(0.5, 1);
    /// let x = Tensor::<(usize, Const<4>), f64>::full_with((100, Const), 3.0);
    /// let y = drop.forward(x.clone());
    /// assert!(y.as_slice().iter().all(|&v| v == 0.0 || v == 6.0)); // dropped, or 3 / (1 - 0.5)
    /// let kept = y.as_slice().iter().filter(|&&v| v != 0.0).count();
    /// assert!((100..300).contains(&kept)); // about half of 400
    /// drop.eval();
    /// assert_eq!(drop.forward(x.clone()), x); // the identity in evaluation
    /// ```
    #[must_use]
    pub fn forward<S: Shape, T: Tracking<E>>(&self, x: Tensor<S, E, T>) -> Tensor<S, E, T> {
        if !self.training || self.p == 0.0 {
            return x;
        }
        let keep: Vec<E> = {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            (0..x.numel())
                .map(|_| {
                    if rng.random::<f64>() < self.p {
                        E::zero()
                    } else {
                        E::one()
                    }
                })
                .collect()
        };
        let keep = Tensor::from_vec_with(x.typed_shape(), keep).expect("one value per element");
        dropout_with_mask(x, &keep, self.p)
    }
}

/// Dropout with a given keep mask: `y = x * keep * (1 / (1 - p))`, each `keep` value 1 (kept) or
/// 0 (dropped), as PyTorch's dropout computes it once it has drawn its mask: the scale
/// `1 / (1 - p)` rounded to the element type first (`noise = mask / (1 - p)`, then `x * noise`),
/// so that the values agree with PyTorch's bit for bit for the same mask.
///
/// Derivative: `dx = dy keep / (1 - p)`, the same scaled mask.
///
/// PyTorch: `F.dropout(x, p)` in training, for the mask it drew (`keep = out != 0` where `x` has
/// no zeros). Useful to replay a mask, or to drop the same elements of several tensors.
///
/// Edge values: a dropped NaN or infinity gives NaN (`x * 0`), a dropped negative value `-0.0`, as
/// in PyTorch; `p = 1` zeroes every element (the scale is 0, as PyTorch's `x * 0`); `p = 0` with
/// a mask of ones is `x`.
///
/// # Panics
/// If `p` is not in `[0, 1]`, if a value of `keep` is neither 0 nor 1 (`dropout_with_mask: keep
/// values are 0 or 1, got 0.5`), and when a run-time dimension of `x` and of `keep` differ
/// (`dropout_with_mask: the shapes differ: [2, 3] and [3, 3]`).
///
/// ```
/// use shaped::nn::dropout_with_mask;
/// use shaped::{Tape, Tensor};
///
/// let x = Tensor::from([1.0_f32, -2.0, 3.0, 4.0]);
/// let keep = Tensor::from([1.0, 0.0, 1.0, 0.0]);
/// let tape = Tape::new();
/// let xt = tape.watch(&x);
/// let y = dropout_with_mask(xt.clone(), &keep, 0.75);
/// assert_eq!(y.to_vec(), vec![4.0, -0.0, 12.0, 0.0]);
/// let g = y.sum().backward().get(&xt);
/// assert_eq!(g.to_vec(), vec![4.0, 0.0, 4.0, 0.0]);
/// ```
#[must_use]
#[track_caller]
pub fn dropout_with_mask<S: Shape, E: Element, T: Tracking<E>>(
    x: Tensor<S, E, T>,
    keep: &Tensor<S, E>,
    p: f64,
) -> Tensor<S, E, T> {
    check_probability(p);
    crate::ops::same_shape("dropout_with_mask", x.typed_shape(), keep.typed_shape());
    let scale = if p < 1.0 {
        E::one() / E::from_f64_lossy(1.0 - p)
    } else {
        E::zero()
    };
    let noise: Vec<E> = keep
        .as_slice()
        .iter()
        .map(|&k| {
            assert!(
                k == E::zero() || k == E::one(),
                "dropout_with_mask: keep values are 0 or 1, got {k:?}"
            );
            if k == E::one() { scale } else { E::zero() }
        })
        .collect();
    x * Tensor::from_vec_with(keep.typed_shape(), noise).expect("one value per element")
}

/// Panics with PyTorch's message if `p` is not a probability.
#[track_caller]
fn check_probability(p: f64) {
    assert!(
        (0.0..=1.0).contains(&p),
        "dropout probability has to be between 0 and 1, but got {p}"
    );
}

/// `Module` and `Trainable` for a layer without parameters (generics in brackets, then the type),
/// its gradients [`NoParams`]: it visits nothing and goes on the tape as a copy of itself. With
/// `training`, [`Module::set_training`] sets the layer's `training` field.
macro_rules! no_params_module {
    ([$($g:tt)*] $ty:ty $(, $training:ident)?) => {
        impl<$($g)*> $crate::Module for $ty {
            type Elem = E;
            type Grads = $crate::nn::NoParams<E>;
            type HoldsParams = $crate::module::No;

            fn visit(&self, _: &mut String, _: &mut $crate::module::Visit<'_, E>) {}

            fn visit_mut(&mut self, _: &mut String, _: &mut $crate::module::VisitMut<'_, E>) {}

            fn zip_mut(&mut self, _: &Self::Grads, _: &mut $crate::module::ZipMut<'_, E>) {}

            fn read_grads(&self, _: &$crate::Grads<E>, _: bool) -> Self::Grads {
                $crate::nn::NoParams::default()
            }

            fn unused_into(&self, _: &$crate::Grads<E>, _: bool, _: &mut String, _: &mut Vec<String>) {}

            fn zeros_like(&self) -> Self::Grads {
                $crate::nn::NoParams::default()
            }

            $(
                fn set_training(&mut self, $training: bool) {
                    self.$training = $training;
                }
            )?
        }

        impl<$($g)*> $crate::Trainable for $ty {
            type Tracked = Self;

            /// The same layer: nothing of it goes on the tape (a generator or a setting is shared
            /// with the copy).
            fn track(&self, _: &$crate::Tape<E>) -> Self {
                self.clone()
            }
        }
    };
}
pub(crate) use no_params_module;

no_params_module!([E: Element] Dropout<E>, training);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Const, Rank1, Rank2, Tape, gradcheck};

    #[test]
    fn the_gradient_is_the_mask() {
        // y = x * mask: dy/dx = mask, the values 0 and 1 / (1 - p) = 4 of the forward.
        let drop: Dropout<f64> = Dropout::new(0.75, 3);
        let x: Tensor<Rank1<64>, f64> = Tensor::full(0.5);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = drop.forward(xt.clone());
        let g = y.sum().backward().get(&xt);
        assert!(y.as_slice().iter().all(|&v| v == 0.0 || v == 2.0));
        let mask: Vec<f64> = y.as_slice().iter().map(|&v| v * 2.0).collect();
        assert_eq!(g.to_vec(), mask);
        assert!(mask.contains(&0.0) && mask.contains(&4.0));
    }

    #[test]
    fn gradient_matches_finite_differences_for_a_fixed_mask() {
        // Each call draws a new mask: the check reseeds the layer so that every evaluation of the
        // function sees the same one.
        let x: Tensor<Rank2<3, 4>, f64> = crate::ops::testing::random(1);
        gradcheck(|x| (Dropout::new(0.3, 9).forward(x.clone()) * x).sum(), &x).unwrap();
    }

    #[test]
    fn about_p_of_the_elements_are_dropped_and_the_mean_is_kept() {
        let drop: Dropout<f64> = Dropout::new(0.2, 1);
        let x: Tensor<(usize, Const<100>), f64> = Tensor::ones_with((200, Const));
        let y = drop.forward(x);
        let zeros = y.as_slice().iter().filter(|&&v| v == 0.0).count();
        // 20000 draws of probability 0.2: 4000 expected, standard deviation 57.
        assert!((3800..4200).contains(&zeros), "{zeros} zeros");
        assert!((y.mean().item() - 1.0).abs() < 0.02);
    }

    #[test]
    fn clones_share_the_stream_and_p_one_zeroes_everything() {
        let drop: Dropout<f64> = Dropout::new(0.5, 5);
        let x: Tensor<Rank1<32>, f64> = Tensor::ones();
        let first = drop.clone().forward(x.clone());
        let second = drop.forward(x.clone());
        assert_ne!(first, second);
        assert_eq!(
            Dropout::<f64>::new(1.0, 0).forward(x).to_vec(),
            vec![0.0; 32]
        );
    }

    #[test]
    fn a_given_mask_gradient_and_edge_values() {
        // y = x keep / (1 - p), p = 0.5: dy/dx = keep * 2 = [2, 0, 2, 0].
        let x = Tensor::from([1.5, f64::NAN, -3.0, -1.0]);
        let keep = Tensor::from([1.0, 0.0, 1.0, 0.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = dropout_with_mask(xt.clone(), &keep, 0.5);
        // A dropped NaN is NaN, a dropped negative value -0.0 (x * 0).
        let v = y.to_vec();
        assert_eq!((v[0], v[2]), (3.0, -6.0));
        assert!(v[1].is_nan() && v[3] == 0.0 && v[3].is_sign_negative());
        assert_eq!(
            y.sum().backward().get(&xt).to_vec(),
            vec![2.0, 0.0, 2.0, 0.0]
        );
        // x used twice, on a run-time batch: d sum(dropout(x) x) = 2 x keep / (1 - p).
        let x: Tensor<(usize, Const<3>), f64> = Tensor::from_vec_with(
            (2, Const),
            crate::ops::testing::random::<Rank2<2, 3>>(5).into_vec(),
        )
        .unwrap();
        let keep = Tensor::from_vec_with((2, Const), vec![1.0, 0.0, 1.0, 1.0, 1.0, 0.0]).unwrap();
        gradcheck(|x| (dropout_with_mask(x.clone(), &keep, 0.3) * x).sum(), &x).unwrap();
        // p = 1 zeroes even kept elements; p = 0 keeps x.
        let ones = Tensor::from([1.0; 4]);
        assert_eq!(
            dropout_with_mask(Tensor::from([1.0, 2.0, 3.0, 4.0]), &ones, 1.0).to_vec(),
            vec![0.0; 4]
        );
        assert_eq!(
            dropout_with_mask(Tensor::from([1.0, 2.0, 3.0, 4.0]), &ones, 0.0).to_vec(),
            vec![1.0, 2.0, 3.0, 4.0]
        );
    }

    #[test]
    #[should_panic(expected = "dropout_with_mask: keep values are 0 or 1, got 0.5")]
    fn a_mask_value_other_than_0_or_1_panics() {
        let _ = dropout_with_mask(Tensor::from([1.0_f32, 2.0]), &Tensor::from([1.0, 0.5]), 0.5);
    }

    #[test]
    #[should_panic(expected = "dropout_with_mask: the shapes differ: [2, 3] and [3, 3]")]
    fn a_mask_of_another_run_time_shape_panics() {
        let x: Tensor<(usize, Const<3>)> = Tensor::zeros_with((2, Const));
        let keep: Tensor<(usize, Const<3>)> = Tensor::ones_with((3, Const));
        let _ = dropout_with_mask(x, &keep, 0.5);
    }

    #[test]
    #[should_panic(expected = "dropout probability has to be between 0 and 1, but got 1.5")]
    fn a_probability_above_one_panics() {
        let _: Dropout = Dropout::new(1.5, 0);
    }
}
