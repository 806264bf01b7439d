//! [`Tensor`]: constructors, read-outs, element access, conversions from and to nested arrays.

use core::ops::Index;
use std::sync::Arc;

use rand::Rng;
use rand::distr::{Distribution, Uniform};

use crate::buffer::Buffer;
use crate::error::{Error, ErrorKind, dims_str};
use crate::id::next_id;
use crate::tape::internal::Input;
use crate::{
    Element, NoTape, Rank0, Rank1, Rank2, Rank3, Rank4, Rank5, Rank6, Shape, StaticShape, Tracking,
};

/// A tensor of shape `S` (a type such as [`Rank2<3, 4>`](crate::Rank2), or `(usize, Const<784>)` when
/// a dimension is known only at run time) with elements `E` (`f32` by default, or `f64`), recording
/// its ops on a tape when `T` is [`Tape<E>`](crate::Tape).
///
/// The data is row-major and shared: `clone` is a reference-count increment, and ops that only
/// reinterpret the data ([`reshape`](Tensor::reshape)) do not copy it. A `Tensor<S, E>` is `Send` and
/// `Sync`. A static shape is zero-sized, so a tensor holds only its data, its identity and its
/// tracking; a shape with run-time dimensions holds those numbers.
///
/// ```
/// use shaped::{Const, Rank2, Tensor};
///
/// let a = Tensor::from([[1.0_f32, 2.0], [3.0, 4.0]]); // a Tensor<Rank2<2, 2>, f32>
/// let b: Tensor<Rank2<2, 2>> = Tensor::ones();
/// let c = &a + &b;
/// assert_eq!(c.to_array(), [[2.0, 3.0], [4.0, 5.0]]);
/// assert_eq!(c.shape(), [2, 2]);
/// assert_eq!(c[[1, 0]], 4.0);
///
/// // Three rows of two, the three known only at run time.
/// let rows = 3;
/// let d: Tensor<(usize, Const<2>)> = Tensor::from_vec_with((rows, Const), vec![1.0; 6])?;
/// assert_eq!(d.shape(), [3, 2]);
/// # Ok::<(), shaped::Error>(())
/// ```
pub struct Tensor<S: Shape, E: Element = f32, T: Tracking<E> = NoTape> {
    data: Arc<Buffer<E>>,
    /// The identity of this value, shared by its reshapes and, on a tape, its clones (see `id.rs`).
    id: u64,
    tape: T,
    shape: S,
}

impl<S: Shape, E: Element, T: Tracking<E>> Clone for Tensor<S, E, T> {
    /// Shares the data (no copy; the first in-place write copies it).
    ///
    /// A clone of a tensor off the tapes is a new variable, as a cloned Rust value (or PyTorch's
    /// `deepcopy` of a parameter) is: watched on a tape, it is a leaf of its own with a gradient of
    /// its own, so two layers made by cloning one are two sets of parameters. A clone of a tensor on
    /// a tape is the same value on the tape: its uses add up in one gradient.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let a = Tensor::from([1.0, 2.0]);
    /// let mut b = a.clone();
    /// assert!(b.shares_data(&a));
    /// b.as_mut_slice()[0] = 10.0; // copies: `a` is unchanged
    /// assert_eq!((a.to_vec(), b.to_vec()), (vec![1.0, 2.0], vec![10.0, 2.0]));
    ///
    /// let tape = Tape::new();
    /// let (at, bt) = (tape.watch(&a), tape.watch(&b));
    /// assert_eq!(tape.leaves(), 2);
    /// // loss = sum(a) + sum(b^2): d/da = [1, 1], d/db = 2b = [20, 4]
    /// let grads = (at.sum() + bt.powi(2).sum()).backward();
    /// assert_eq!(grads.get(&at).to_vec(), vec![1.0, 1.0]);
    /// assert_eq!(grads.get(&bt).to_vec(), vec![20.0, 4.0]);
    /// // On the tape, a clone is the same leaf.
    /// let tape = Tape::new();
    /// let at = tape.watch(&a);
    /// let grads = (&at * &at.clone()).sum().backward();
    /// assert_eq!(grads.get(&at).to_vec(), vec![2.0, 4.0]); // d(sum(a^2))/da = 2a
    /// ```
    #[inline]
    fn clone(&self) -> Self {
        Self {
            data: Arc::clone(&self.data),
            // A tensor on a tape keeps its node; one off the tapes is a new variable.
            id: if T::RECORDS {
                self.id
            } else {
                let id = next_id();
                crate::tape::alias_derived::<E>(self.id, id);
                id
            },
            tape: self.tape.clone(),
            shape: self.shape,
        }
    }
}

/// Internal plumbing used by the ops.
impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// A new value (fresh id) with the given data, shape and tracking.
    #[inline]
    pub(crate) fn from_parts(data: Arc<Buffer<E>>, shape: S, tape: T) -> Self {
        let id = next_id();
        if !T::RECORDS {
            crate::tape::adopt_pending::<E>(id, data.len());
        }
        Self::with_id(data, id, shape, tape)
    }

    /// A value with a given identity: the same variable as another tensor with this id.
    #[inline]
    pub(crate) fn with_id(data: Arc<Buffer<E>>, id: u64, shape: S, tape: T) -> Self {
        assert_eq!(
            data.len(),
            shape.numel(),
            "a tensor's buffer and shape disagree"
        );
        Self {
            data,
            id,
            tape,
            shape,
        }
    }

    #[inline]
    pub(crate) fn data(&self) -> &Arc<Buffer<E>> {
        &self.data
    }

    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    #[inline]
    pub(crate) fn tape(&self) -> &T {
        &self.tape
    }

    /// This tensor with the tracking of `tape`'s side of an op: on that tape, it keeps its node, or
    /// is the leaf of its id when it was watched there, or else is a constant.
    #[inline]
    pub(crate) fn on_tape_of<T2: Tracking<E>>(&self, tape: &T2) -> Tensor<S, E, T2> {
        Tensor::with_id(
            Arc::clone(&self.data),
            self.id,
            self.shape,
            tape.lift(self.input()),
        )
    }

    /// This tensor as an op input, for the tape.
    #[inline]
    pub(crate) fn input(&self) -> Input<'_, E> {
        self.tape.input(self.id)
    }
}

/// Read-outs, for every tensor.
impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The dimensions, outermost first.
    ///
    /// ```
    /// use shaped::{Const, Rank3, Tensor};
    /// let t: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    /// assert_eq!(t.shape(), [2, 3, 4]);
    /// let u: Tensor<(usize, Const<4>)> = Tensor::zeros_with((5, Const));
    /// assert_eq!(u.shape(), [5, 4]);
    /// ```
    #[inline]
    #[must_use]
    pub fn shape(&self) -> S::Dims {
        self.shape.dims()
    }

    /// The shape as a value of its type: a zero-sized marker for a static shape, the run-time sizes
    /// for a tuple. Build another tensor of the same shape with it.
    ///
    /// ```
    /// use shaped::{Const, Tensor};
    /// let u: Tensor<(usize, Const<4>)> = Tensor::zeros_with((5, Const));
    /// assert_eq!(u.typed_shape(), (5, Const));
    /// let v: Tensor<(usize, Const<4>)> = Tensor::ones_with(u.typed_shape());
    /// assert_eq!(v.shape(), [5, 4]);
    /// ```
    #[inline]
    #[must_use]
    pub fn typed_shape(&self) -> S {
        self.shape
    }

    /// The number of elements.
    ///
    /// ```
    /// use shaped::{Rank3, Tensor};
    /// assert_eq!(Tensor::<Rank3<2, 3, 4>>::zeros().numel(), 24);
    /// ```
    #[inline]
    #[must_use]
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The number of axes.
    ///
    /// ```
    /// use shaped::{Rank3, Tensor};
    /// assert_eq!(Tensor::<Rank3<2, 3, 4>>::zeros().rank(), 3);
    /// ```
    #[inline]
    #[must_use]
    pub fn rank(&self) -> usize {
        S::RANK
    }

    /// The elements in row-major order, borrowed.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
    /// ```
    #[inline]
    #[must_use]
    pub fn as_slice(&self) -> &[E] {
        &self.data
    }

    /// The elements in row-major order, copied.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    /// ```
    #[must_use]
    pub fn to_vec(&self) -> Vec<E> {
        self.data.to_vec()
    }

    /// The elements in row-major order, without copying when this is the only handle to them.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([1.0, 2.0]);
    /// assert_eq!(t.into_vec(), vec![1.0, 2.0]);
    /// ```
    #[must_use]
    pub fn into_vec(self) -> Vec<E> {
        Arc::try_unwrap(self.data).map_or_else(|shared| shared.to_vec(), Buffer::into_vec)
    }

    /// The same values as a new variable, off any tape: ops on the result are not recorded, and no
    /// gradient reaches `self` through it (it is a constant where it meets a taped value). Shares the
    /// data.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([2.0]);
    /// let tape = Tape::new();
    /// let y = tape.watch(&x) * 3.0;
    /// let frozen = y.detach(); // a Tensor<Rank1<1>, f64> with the value 6
    /// assert_eq!(frozen.to_vec(), vec![6.0]);
    /// ```
    #[must_use]
    pub fn detach(&self) -> Tensor<S, E> {
        Tensor::from_parts(Arc::clone(&self.data), self.shape, NoTape)
    }

    /// Whether `self` and `other` share the same buffer (one is a clone or a reshape of the other).
    ///
    /// ```
    /// use shaped::{Rank2, Tensor};
    /// let a = Tensor::from([1.0, 2.0, 3.0, 4.0]);
    /// let b = a.reshape::<Rank2<2, 2>>();
    /// assert!(a.shares_data(&b));
    /// assert!(!a.shares_data(&(&a * 1.0)));
    /// ```
    #[must_use]
    pub fn shares_data<S2: Shape, T2: Tracking<E>>(&self, other: &Tensor<S2, E, T2>) -> bool {
        Arc::ptr_eq(&self.data, &other.data)
    }
}

impl<E: Element, T: Tracking<E>> Tensor<Rank0, E, T> {
    /// The value of a scalar.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let s = Tensor::from([1.0, 2.0, 3.0]).sum();
    /// assert_eq!(s.item(), 6.0);
    /// ```
    #[inline]
    #[must_use]
    pub fn item(&self) -> E {
        self.data[0]
    }
}

/// Constructors of a static shape, whose sizes the type gives. They make tensors that are on no tape.
impl<S: StaticShape, E: Element> Tensor<S, E> {
    /// Wraps a buffer of exactly the shape's number of elements. Internal: callers guarantee the
    /// length.
    #[inline]
    pub(crate) fn from_data(data: Vec<E>) -> Self {
        Self::from_data_with(S::default(), data)
    }

    /// A tensor of zeros.
    ///
    /// ```
    /// use shaped::{Rank2, Tensor};
    /// let t: Tensor<Rank2<2, 3>> = Tensor::zeros();
    /// assert_eq!(t.to_vec(), vec![0.0; 6]);
    /// ```
    #[must_use]
    pub fn zeros() -> Self {
        Self::zeros_with(S::default())
    }

    /// A tensor of ones.
    ///
    /// ```
    /// use shaped::{Rank1, Tensor};
    /// let t: Tensor<Rank1<3>, f64> = Tensor::ones();
    /// assert_eq!(t.to_vec(), vec![1.0; 3]);
    /// ```
    #[must_use]
    pub fn ones() -> Self {
        Self::ones_with(S::default())
    }

    /// A tensor with every element equal to `value`.
    ///
    /// ```
    /// use shaped::{Rank2, Tensor};
    /// let t: Tensor<Rank2<2, 2>> = Tensor::full(7.5);
    /// assert_eq!(t.to_vec(), vec![7.5; 4]);
    /// ```
    #[must_use]
    pub fn full(value: E) -> Self {
        Self::full_with(S::default(), value)
    }

    /// A tensor whose element at each multi-index is `f(index)`, filled in row-major order. The shape
    /// can come from the binding: the closure's argument is an array of one index per axis.
    ///
    /// ```
    /// use shaped::{Rank2, Tensor};
    /// let t: Tensor<Rank2<2, 3>> = Tensor::from_fn(|[i, j]| (10 * i + j) as f32);
    /// assert_eq!(t.to_array(), [[0.0, 1.0, 2.0], [10.0, 11.0, 12.0]]);
    /// ```
    #[must_use]
    pub fn from_fn<const R: usize>(f: impl FnMut([usize; R]) -> E) -> Self
    where
        S: Shape<Dims = [usize; R]>,
    {
        Self::from_fn_with(S::default(), f)
    }

    /// A tensor from a row-major buffer, which must hold exactly as many elements as the shape has.
    /// No copy.
    ///
    /// # Errors
    /// [`ErrorKind::Length`] when the length is not the shape's number of elements; the message names
    /// the shape, the count it needs and the count given.
    ///
    /// ```
    /// use shaped::{Rank2, Tensor};
    /// let t = Tensor::<Rank2<2, 2>>::from_vec(vec![1.0, 2.0, 3.0, 4.0])?;
    /// assert_eq!(t[[1, 1]], 4.0);
    /// let err = Tensor::<Rank2<2, 2>>::from_vec(vec![1.0; 3]).unwrap_err();
    /// assert_eq!(err.to_string(), "cannot build a tensor of shape [2, 2] from 3 elements: it needs 4");
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn from_vec(data: Vec<E>) -> Result<Self, Error> {
        Self::from_vec_with(S::default(), data)
    }

    /// A tensor from a row-major slice, which must hold exactly as many elements as the shape has.
    /// Copies.
    ///
    /// # Errors
    /// [`ErrorKind::Length`] when the length is not the shape's number of elements.
    ///
    /// ```
    /// use shaped::{Rank1, Tensor};
    /// let t = Tensor::<Rank1<3>, f64>::from_slice(&[1.0, 2.0, 3.0])?;
    /// assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn from_slice(data: &[E]) -> Result<Self, Error> {
        Self::from_slice_with(S::default(), data)
    }

    /// Independent samples of the uniform distribution on `[low, high)`.
    ///
    /// # Panics
    /// If `low >= high` or either is not finite.
    ///
    /// ```
    /// use shaped::rand::SeedableRng;
    /// use shaped::{Rank2, Tensor};
    /// let mut rng = shaped::rand::rngs::StdRng::seed_from_u64(0);
    /// let t: Tensor<Rank2<10, 10>> = Tensor::uniform(&mut rng, -0.5, 0.5);
    /// assert!(t.as_slice().iter().all(|v| (-0.5..0.5).contains(v)));
    /// ```
    #[must_use]
    pub fn uniform<R: Rng + ?Sized>(rng: &mut R, low: E, high: E) -> Self {
        Self::uniform_with(S::default(), rng, low, high)
    }

    /// Independent samples of the standard normal distribution (mean 0, standard deviation 1).
    ///
    /// ```
    /// use shaped::rand::SeedableRng;
    /// use shaped::{Rank1, Tensor};
    /// let mut rng = shaped::rand::rngs::StdRng::seed_from_u64(1);
    /// let t: Tensor<Rank1<10000>, f64> = Tensor::randn(&mut rng);
    /// assert!(t.mean().item().abs() < 0.05);
    /// ```
    #[must_use]
    pub fn randn<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self::randn_with(S::default(), rng)
    }

    /// Independent samples of the normal distribution with the given mean and standard deviation.
    ///
    /// ```
    /// use shaped::rand::SeedableRng;
    /// use shaped::{Rank1, Tensor};
    /// let mut rng = shaped::rand::rngs::StdRng::seed_from_u64(2);
    /// let t: Tensor<Rank1<10000>, f64> = Tensor::normal(&mut rng, 5.0, 0.1);
    /// assert!((t.mean().item() - 5.0).abs() < 0.01);
    /// ```
    #[must_use]
    pub fn normal<R: Rng + ?Sized>(rng: &mut R, mean: E, std: E) -> Self {
        Self::normal_with(S::default(), rng, mean, std)
    }
}

/// Constructors that take the shape as a value: `(rows, Const)` for a `(usize, Const<784>)`. They work
/// for every shape (for a static one, the value is the zero-sized marker, `Rank2` say).
impl<S: Shape, E: Element> Tensor<S, E> {
    /// Wraps a buffer of exactly `shape.numel()` elements. Internal: callers guarantee the length.
    #[inline]
    pub(crate) fn from_data_with(shape: S, data: Vec<E>) -> Self {
        Self::from_parts(Arc::new(Buffer::from_vec(data)), shape, NoTape)
    }

    /// A tensor of zeros of the given shape.
    ///
    /// ```
    /// use shaped::{Const, Tensor};
    /// let t: Tensor<(usize, Const<3>)> = Tensor::zeros_with((2, Const));
    /// assert_eq!(t.to_vec(), vec![0.0; 6]);
    /// ```
    #[must_use]
    pub fn zeros_with(shape: S) -> Self {
        Self::full_with(shape, E::zero())
    }

    /// A tensor of ones of the given shape.
    ///
    /// ```
    /// use shaped::{Const, Tensor};
    /// let t: Tensor<(Const<2>, usize), f64> = Tensor::ones_with((Const, 4));
    /// assert_eq!(t.shape(), [2, 4]);
    /// assert_eq!(t.to_vec(), vec![1.0; 8]);
    /// ```
    #[must_use]
    pub fn ones_with(shape: S) -> Self {
        Self::full_with(shape, E::one())
    }

    /// A tensor of the given shape with every element equal to `value`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t: Tensor<(usize,)> = Tensor::full_with((3,), 2.5);
    /// assert_eq!(t.to_vec(), vec![2.5; 3]);
    /// ```
    #[must_use]
    pub fn full_with(shape: S, value: E) -> Self {
        Self::from_data_with(shape, vec![value; shape.numel()])
    }

    /// A tensor of the given shape whose element at each multi-index is `f(index)`, filled in
    /// row-major order.
    ///
    /// ```
    /// use shaped::{Const, Tensor};
    /// let t: Tensor<(usize, Const<2>)> = Tensor::from_fn_with((3, Const), |[i, j]| (10 * i + j) as f32);
    /// assert_eq!(t.to_vec(), vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0]);
    /// ```
    #[must_use]
    pub fn from_fn_with(shape: S, f: impl FnMut(S::Dims) -> E) -> Self {
        Self::from_data_with(shape, by_index(shape, f))
    }

    /// A tensor of the given shape from a row-major buffer, which must hold exactly `shape.numel()`
    /// elements. No copy.
    ///
    /// # Errors
    /// [`ErrorKind::Length`] when the length is not `shape.numel()`; the message names the shape, the
    /// count it needs and the count given.
    ///
    /// ```
    /// use shaped::{Const, Tensor};
    /// let rows = 2;
    /// let t = Tensor::<(usize, Const<3>)>::from_vec_with((rows, Const), vec![1.0; 6])?;
    /// assert_eq!(t.shape(), [2, 3]);
    /// let err = Tensor::<(usize, Const<3>)>::from_vec_with((rows, Const), vec![1.0; 5]).unwrap_err();
    /// assert_eq!(err.to_string(), "cannot build a tensor of shape [2, 3] from 5 elements: it needs 6");
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn from_vec_with(shape: S, data: Vec<E>) -> Result<Self, Error> {
        check_len("a tensor", shape, data.len(), "elements")?;
        Ok(Self::from_data_with(shape, data))
    }

    /// A tensor of the given shape from a row-major slice, which must hold exactly `shape.numel()`
    /// elements. Copies.
    ///
    /// # Errors
    /// [`ErrorKind::Length`] when the length is not `shape.numel()`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::<(usize,), f64>::from_slice_with((3,), &[1.0, 2.0, 3.0])?;
    /// assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn from_slice_with(shape: S, data: &[E]) -> Result<Self, Error> {
        check_len("a tensor", shape, data.len(), "elements")?;
        Ok(Self::from_data_with(shape, data.to_vec()))
    }

    /// A tensor whose shape is given as a list of sizes at run time (the rank must match, and each
    /// static dimension must be equal), from a row-major buffer. For data whose sizes are read from a
    /// file.
    ///
    /// # Errors
    /// [`ErrorKind::Shape`] when the sizes do not fit the shape type, naming both;
    /// [`ErrorKind::Length`] when the buffer does not hold their product.
    ///
    /// ```
    /// use shaped::{Const, Tensor};
    /// let t = Tensor::<(usize, Const<2>)>::from_dims_vec(&[3, 2], vec![0.0; 6])?;
    /// assert_eq!(t.shape(), [3, 2]);
    /// let err = Tensor::<(usize, Const<2>)>::from_dims_vec(&[3, 4], vec![0.0; 12]).unwrap_err();
    /// assert_eq!(err.to_string(), "sizes [3, 4] do not fit a tensor of shape type (usize, Const<2>)");
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn from_dims_vec(dims: &[usize], data: Vec<E>) -> Result<Self, Error> {
        let shape = shape_from_dims::<S>(dims)?;
        Self::from_vec_with(shape, data)
    }

    /// Independent samples of the uniform distribution on `[low, high)`, of the given shape.
    ///
    /// # Panics
    /// If `low >= high` or either is not finite.
    ///
    /// ```
    /// use shaped::rand::SeedableRng;
    /// use shaped::{Const, Tensor};
    /// let mut rng = shaped::rand::rngs::StdRng::seed_from_u64(0);
    /// let t: Tensor<(usize, Const<4>)> = Tensor::uniform_with((25, Const), &mut rng, 2.0, 3.0);
    /// assert_eq!(t.shape(), [25, 4]);
    /// assert!(t.as_slice().iter().all(|v| (2.0..3.0).contains(v)));
    /// ```
    #[must_use]
    pub fn uniform_with<R: Rng + ?Sized>(shape: S, rng: &mut R, low: E, high: E) -> Self {
        let dist = Uniform::new(low, high)
            .unwrap_or_else(|e| panic!("uniform: cannot sample [{low}, {high}): {e}"));
        Self::from_data_with(
            shape,
            (0..shape.numel()).map(|_| dist.sample(rng)).collect(),
        )
    }

    /// Independent samples of the standard normal distribution, of the given shape.
    ///
    /// ```
    /// use shaped::rand::SeedableRng;
    /// use shaped::{Const, Tensor};
    /// let mut rng = shaped::rand::rngs::StdRng::seed_from_u64(1);
    /// let t: Tensor<(usize, Const<100>), f64> = Tensor::randn_with((100, Const), &mut rng);
    /// assert_eq!(t.shape(), [100, 100]);
    /// assert!(t.mean().item().abs() < 0.05); // 10000 samples: a standard error of 0.01
    /// ```
    #[must_use]
    pub fn randn_with<R: Rng + ?Sized>(shape: S, rng: &mut R) -> Self {
        Self::from_data_with(
            shape,
            (0..shape.numel())
                .map(|_| E::standard_normal(rng))
                .collect(),
        )
    }

    /// Independent samples of the normal distribution with the given mean and standard deviation, of
    /// the given shape.
    ///
    /// ```
    /// use shaped::rand::SeedableRng;
    /// use shaped::{Const, Tensor};
    /// let mut rng = shaped::rand::rngs::StdRng::seed_from_u64(2);
    /// let t: Tensor<(usize, Const<100>), f64> = Tensor::normal_with((100, Const), &mut rng, -3.0, 0.1);
    /// assert!((t.mean().item() + 3.0).abs() < 0.01); // a standard error of 0.001
    /// ```
    #[must_use]
    pub fn normal_with<R: Rng + ?Sized>(shape: S, rng: &mut R, mean: E, std: E) -> Self {
        Self::from_data_with(
            shape,
            (0..shape.numel())
                .map(|_| mean + std * E::standard_normal(rng))
                .collect(),
        )
    }

    /// The elements, mutably, for in-place updates (an optimizer step). Copies first if the data is
    /// shared with another tensor, so no other tensor sees the change. The tensor stays the same
    /// variable: gradients are still found under it.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let mut a = Tensor::from([1.0, 2.0]);
    /// let b = a.clone();
    /// a.as_mut_slice()[0] = 10.0;
    /// assert_eq!(a.to_vec(), vec![10.0, 2.0]);
    /// assert_eq!(b.to_vec(), vec![1.0, 2.0]);
    /// ```
    #[must_use]
    pub fn as_mut_slice(&mut self) -> &mut [E] {
        &mut Arc::make_mut(&mut self.data)[..]
    }

    /// Applies `f` to every element (not recorded on any tape; for data preparation).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([1.0, 4.0, 9.0]).map(f64::sqrt);
    /// assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0]);
    /// ```
    #[must_use]
    pub fn map(&self, f: impl FnMut(E) -> E) -> Self {
        Self::from_data_with(self.shape, self.data.iter().copied().map(f).collect())
    }
}

/// The static and the tuple form of a shape, for every tensor: the same data under another name of
/// the same sizes. The result is the same variable, and on a tape the same value (as a reshape is), so
/// a gradient flows through unchanged.
impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The same tensor with the shape written as a tuple of dimensions: `Rank2<64, 784>` becomes
    /// `(Const<64>, Const<784>)`. No copy; on a tape, the same value, so the gradient flows through.
    /// Model code written for any batch `B: Dim`, as `Tensor<(B, Const<784>)>`, takes a static batch
    /// this way; [`into_static`](Tensor::into_static) turns its output back.
    ///
    /// ```
    /// use shaped::{Const, Rank2, Tape, Tensor};
    /// let x: Tensor<Rank2<2, 3>> = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let t: Tensor<(Const<2>, Const<3>)> = x.clone().into_dims();
    /// assert_eq!(t.shape(), [2, 3]);
    /// assert_eq!(t.to_vec(), x.to_vec());
    ///
    /// // On a tape: d/dx sum(x^2) = 2x, through the tuple shape.
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let grads = xt.clone().into_dims().powi(2).sum().backward();
    /// assert_eq!(grads.get(&xt).to_array(), [[2.0, 4.0, 6.0], [8.0, 10.0, 12.0]]);
    /// ```
    #[must_use]
    pub fn into_dims(self) -> Tensor<S::Tuple, E, T>
    where
        S: StaticShape,
    {
        let shape = self.shape.to_tuple();
        self.relabel(shape)
    }

    /// The same tensor with a shape of [`Const`](crate::Const)s written as [`Rank0`] to [`Rank6`]:
    /// `(Const<2>, Const<3>)` becomes `Rank2<2, 3>`, the inverse of
    /// [`into_dims`](Tensor::into_dims). No copy; on a tape, the same value, so the gradient flows
    /// through. A shape with a run-time (`usize`) dimension is not static:
    /// [`try_into_static`](Tensor::try_into_static) checks its sizes.
    ///
    /// ```
    /// use shaped::{Const, Dim, Rank2, Tensor};
    /// // Written once for any number of rows: doubles every value.
    /// fn double<B: Dim>(x: Tensor<(B, Const<2>)>) -> Tensor<(B, Const<2>)> {
    ///     x * 2.0
    /// }
    /// let x: Tensor<Rank2<2, 2>> = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// let y: Tensor<Rank2<2, 2>> = double(x.into_dims()).into_static();
    /// assert_eq!(y.to_array(), [[2.0, 4.0], [6.0, 8.0]]);
    /// ```
    #[must_use]
    pub fn into_static<S2: StaticShape>(self) -> Tensor<S2, E, T>
    where
        S: StaticShape<Static = S2>,
    {
        self.relabel(S2::default())
    }

    /// The same tensor with the static shape `S2` (written as [`Rank0`] to [`Rank6`] or as a tuple of
    /// [`Const`](crate::Const)s), when its sizes are those of `S2`: how a tensor whose sizes are known
    /// at run time enters code written for a static shape. No copy; on a tape, the same value, so the
    /// gradient flows through.
    ///
    /// # Errors
    /// [`ErrorKind::Shape`] when the sizes differ; the message names the sizes and `S2`.
    ///
    /// ```
    /// use shaped::{Const, ErrorKind, Rank2, Tensor};
    /// let rows = 2; // read from data, say
    /// let t: Tensor<(usize, Const<3>)> =
    ///     Tensor::from_vec_with((rows, Const), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
    /// let m: Tensor<Rank2<2, 3>> = t.clone().try_into_static()?;
    /// assert_eq!(m.to_array(), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    ///
    /// let err = t.try_into_static::<Rank2<4, 3>>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Shape);
    /// assert_eq!(err.to_string(), "sizes [2, 3] do not fit a tensor of shape type Rank2<4, 3>");
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn try_into_static<S2: StaticShape>(self) -> Result<Tensor<S2, E, T>, Error> {
        let shape = shape_from_dims::<S2>(self.shape().as_ref())?;
        Ok(self.relabel(shape))
    }

    /// The same value (data, identity, place on a tape) under another shape type of the same sizes.
    #[inline]
    fn relabel<S2: Shape>(self, shape: S2) -> Tensor<S2, E, T> {
        debug_assert_eq!(shape.dims().as_ref(), self.shape().as_ref());
        Tensor::with_id(self.data, self.id, shape, self.tape.alias())
    }
}

/// The shape type `S` with the sizes `dims`, or an error naming both.
pub(crate) fn shape_from_dims<S: Shape>(dims: &[usize]) -> Result<S, Error> {
    S::from_dims(dims).ok_or_else(|| {
        Error::new(
            ErrorKind::Shape,
            format!(
                "sizes {} do not fit a tensor of shape type {}",
                dims_str(dims),
                shape_type_name::<S>()
            ),
        )
    })
}

/// The shape type's name without module paths: `(usize, Const<2>)`, `Rank2<2, 3>`.
pub(crate) fn shape_type_name<S: Shape>() -> String {
    let full = core::any::type_name::<S>();
    let mut out = String::with_capacity(full.len());
    let mut word = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(&word));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(&word));
    out
}

/// `f(index)` at each multi-index of `shape`, in row-major order: the values of the `from_fn`
/// constructors.
pub(crate) fn by_index<S: Shape, V>(shape: S, mut f: impl FnMut(S::Dims) -> V) -> Vec<V> {
    let dims = shape.dims();
    let dims = dims.as_ref();
    let numel = shape.numel();
    let mut index = S::Dims::default();
    let mut data = Vec::with_capacity(numel);
    for n in 0..numel {
        if n > 0 {
            // Odometer step: the last axis runs fastest.
            let idx = index.as_mut();
            for axis in (0..dims.len()).rev() {
                idx[axis] += 1;
                if idx[axis] < dims[axis] {
                    break;
                }
                idx[axis] = 0;
            }
        }
        data.push(f(index));
    }
    data
}

/// `Ok` when `len` values make `what` (`a tensor`, `a mask`) of `shape`; the error names the
/// shape and both counts of `unit`s (`elements`, `values`).
pub(crate) fn check_len<S: Shape>(
    what: &str,
    shape: S,
    len: usize,
    unit: &str,
) -> Result<(), Error> {
    let numel = shape.numel();
    if len == numel {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Length,
            format!(
                "cannot build {what} of shape {} from {len} {unit}: it needs {numel}",
                dims_str(shape.dims().as_ref()),
            ),
        ))
    }
}

/// Row-major offset of a multi-index; panics (like slice indexing) when it is out of bounds.
#[track_caller]
pub(crate) fn offset(index: &[usize], dims: &[usize]) -> usize {
    let in_bounds = index.iter().zip(dims).all(|(i, d)| i < d);
    assert!(
        in_bounds,
        "index {index:?} is out of bounds for shape {dims:?}"
    );
    index.iter().zip(dims).fold(0, |acc, (i, d)| acc * d + i)
}

impl<S: Shape, E: Element, T: Tracking<E>> Index<S::Dims> for Tensor<S, E, T> {
    type Output = E;

    /// The element at a multi-index, `t[[i, j]]`. Panics when an index is out of bounds.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t[[0, 2]], 3.0);
    /// assert_eq!(t[[1, 0]], 4.0);
    /// ```
    #[inline]
    fn index(&self, index: S::Dims) -> &E {
        &self.data[offset(index.as_ref(), self.shape.dims().as_ref())]
    }
}

impl<S: Shape, E: Element, T: Tracking<E>, T2: Tracking<E>> PartialEq<Tensor<S, E, T2>>
    for Tensor<S, E, T>
{
    /// Equal shapes and elementwise equal values (IEEE: a NaN anywhere makes tensors unequal).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let a = Tensor::from([1.0, 2.0]);
    /// assert_eq!(a, Tensor::from([1.0, 2.0]));
    /// assert_ne!(a, Tensor::from([1.0, 2.5]));
    /// assert_ne!(Tensor::from([f64::NAN]), Tensor::from([f64::NAN]));
    /// ```
    fn eq(&self, other: &Tensor<S, E, T2>) -> bool {
        self.shape == other.shape && self.as_slice() == other.as_slice()
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> approx::AbsDiffEq for Tensor<S, E, T> {
    type Epsilon = E;

    fn default_epsilon() -> E {
        E::default_epsilon()
    }

    /// Every pair of elements is within `epsilon` of each other.
    ///
    /// ```
    /// use approx::AbsDiffEq;
    /// use shaped::Tensor;
    /// let a = Tensor::from([1.0, 2.0]);
    /// // |2.0 - 2.05| = 0.05
    /// assert!(a.abs_diff_eq(&Tensor::from([1.0, 2.05]), 0.1));
    /// assert!(!a.abs_diff_eq(&Tensor::from([1.0, 2.05]), 0.01));
    /// ```
    fn abs_diff_eq(&self, other: &Self, epsilon: E) -> bool {
        self.as_slice()
            .iter()
            .zip(other.as_slice())
            .all(|(a, b)| a.abs_diff_eq(b, epsilon))
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> approx::RelativeEq for Tensor<S, E, T> {
    fn default_max_relative() -> E {
        E::default_max_relative()
    }

    /// Every pair of elements is relatively close.
    ///
    /// ```
    /// use approx::RelativeEq;
    /// use shaped::Tensor;
    /// let a = Tensor::from([100.0, 200.0]);
    /// // |200 - 201| / 201 < 1%, but not < 0.1%
    /// assert!(a.relative_eq(&Tensor::from([100.0, 201.0]), 0.0, 0.01));
    /// assert!(!a.relative_eq(&Tensor::from([100.0, 201.0]), 0.0, 0.001));
    /// ```
    fn relative_eq(&self, other: &Self, epsilon: E, max_relative: E) -> bool {
        self.as_slice()
            .iter()
            .zip(other.as_slice())
            .all(|(a, b)| a.relative_eq(b, epsilon, max_relative))
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> approx::UlpsEq for Tensor<S, E, T> {
    fn default_max_ulps() -> u32 {
        E::default_max_ulps()
    }

    /// Every pair of elements is within `max_ulps` units in the last place.
    ///
    /// ```
    /// use approx::UlpsEq;
    /// use shaped::Tensor;
    /// let one = Tensor::from([1.0_f32]);
    /// let next = Tensor::from([f32::from_bits(1.0_f32.to_bits() + 2)]); // 2 ulps above 1
    /// assert!(one.ulps_eq(&next, 0.0, 2));
    /// assert!(!one.ulps_eq(&next, 0.0, 1));
    /// ```
    fn ulps_eq(&self, other: &Self, epsilon: E, max_ulps: u32) -> bool {
        self.as_slice()
            .iter()
            .zip(other.as_slice())
            .all(|(a, b)| a.ulps_eq(b, epsilon, max_ulps))
    }
}

macro_rules! scalar_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Tensor<Rank0, $t> {
            /// A scalar tensor.
            ///
            /// ```
            /// use shaped::Tensor;
            #[doc = concat!("let s = Tensor::from(2.5_", stringify!($t), ");")]
            /// assert_eq!(s.item(), 2.5);
            /// ```
            fn from(value: $t) -> Self {
                Tensor::from_data(vec![value])
            }
        }
    )*};
}
scalar_from!(f32, f64);

impl<E: Element, const A: usize> From<[E; A]> for Tensor<Rank1<A>, E> {
    /// A vector from an array: `Tensor::from([1.0, 2.0])` is a `Tensor<Rank1<2>, f64>`.
    ///
    /// ```
    /// use shaped::{Rank1, Tensor};
    /// let v: Tensor<Rank1<3>, f32> = Tensor::from([1.0, 2.0, 3.0]);
    /// assert_eq!(v.to_vec(), vec![1.0, 2.0, 3.0]);
    /// ```
    fn from(a: [E; A]) -> Self {
        Tensor::from_data(a.to_vec())
    }
}

impl<E: Element, const A: usize, const B: usize> From<[[E; B]; A]> for Tensor<Rank2<A, B>, E> {
    /// A matrix from nested arrays: `Tensor::from([[1.0, 2.0], [3.0, 4.0]])` is a `Rank2<2, 2>` tensor.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let m = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(m.shape(), [2, 3]);
    /// assert_eq!(m.to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]); // row-major
    /// ```
    fn from(a: [[E; B]; A]) -> Self {
        Tensor::from_data(a.as_flattened().to_vec())
    }
}

impl<E: Element, const A: usize, const B: usize, const C: usize> From<[[[E; C]; B]; A]>
    for Tensor<Rank3<A, B, C>, E>
{
    /// A rank-3 tensor from nested arrays; the shape is read off the literal.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[[1.0, 2.0]], [[3.0, 4.0]], [[5.0, 6.0]]]);
    /// assert_eq!(t.shape(), [3, 1, 2]);
    /// assert_eq!(t[[2, 0, 1]], 6.0);
    /// ```
    fn from(a: [[[E; C]; B]; A]) -> Self {
        Tensor::from_data(a.as_flattened().as_flattened().to_vec())
    }
}

impl<E: Element, const A: usize, const B: usize, const C: usize, const D: usize>
    From<[[[[E; D]; C]; B]; A]> for Tensor<Rank4<A, B, C, D>, E>
{
    /// A rank-4 tensor from nested arrays; the shape is read off the literal.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[[[1.0, 2.0, 3.0]], [[4.0, 5.0, 6.0]]]]);
    /// assert_eq!(t.shape(), [1, 2, 1, 3]);
    /// assert_eq!(t[[0, 1, 0, 2]], 6.0);
    /// ```
    fn from(a: [[[[E; D]; C]; B]; A]) -> Self {
        Tensor::from_data(a.as_flattened().as_flattened().as_flattened().to_vec())
    }
}

impl<E: Element, const A: usize, const B: usize, const C: usize, const D: usize, const F: usize>
    From<[[[[[E; F]; D]; C]; B]; A]> for Tensor<Rank5<A, B, C, D, F>, E>
{
    /// A rank-5 tensor from nested arrays; the shape is read off the literal.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[[[[1.0, 2.0]]]], [[[[3.0, 4.0]]]]]);
    /// assert_eq!(t.shape(), [2, 1, 1, 1, 2]);
    /// assert_eq!(t[[1, 0, 0, 0, 0]], 3.0);
    /// ```
    fn from(a: [[[[[E; F]; D]; C]; B]; A]) -> Self {
        Tensor::from_data(
            a.as_flattened()
                .as_flattened()
                .as_flattened()
                .as_flattened()
                .to_vec(),
        )
    }
}

impl<
    E: Element,
    const A: usize,
    const B: usize,
    const C: usize,
    const D: usize,
    const F: usize,
    const G: usize,
> From<[[[[[[E; G]; F]; D]; C]; B]; A]> for Tensor<Rank6<A, B, C, D, F, G>, E>
{
    /// A rank-6 tensor from nested arrays; the shape is read off the literal.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[[[[[1.0], [2.0], [3.0]]]]]]);
    /// assert_eq!(t.shape(), [1, 1, 1, 1, 3, 1]);
    /// assert_eq!(t[[0, 0, 0, 0, 2, 0]], 3.0);
    /// ```
    fn from(a: [[[[[[E; G]; F]; D]; C]; B]; A]) -> Self {
        Tensor::from_data(
            a.as_flattened()
                .as_flattened()
                .as_flattened()
                .as_flattened()
                .as_flattened()
                .to_vec(),
        )
    }
}

/// `[f(0), f(1), ..., f(N - 1)]`.
fn arr<X, const N: usize>(f: impl FnMut(usize) -> X) -> [X; N] {
    core::array::from_fn(f)
}

impl<E: Element, T: Tracking<E>, const A: usize> Tensor<Rank1<A>, E, T> {
    /// The elements as an array.
    ///
    /// ```
    /// use shaped::Tensor;
    /// assert_eq!(Tensor::from([1.0, 2.0]).to_array(), [1.0, 2.0]);
    /// ```
    #[must_use]
    pub fn to_array(&self) -> [E; A] {
        let d = self.as_slice();
        arr(|a| d[a])
    }
}

impl<E: Element, T: Tracking<E>, const A: usize, const B: usize> Tensor<Rank2<A, B>, E, T> {
    /// The elements as nested arrays, `[[E; B]; A]`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let m = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(m.to_array(), [[1.0, 2.0], [3.0, 4.0]]);
    /// ```
    #[must_use]
    pub fn to_array(&self) -> [[E; B]; A] {
        let d = self.as_slice();
        arr(|a| arr(|b| d[a * B + b]))
    }
}

impl<E: Element, T: Tracking<E>, const A: usize, const B: usize, const C: usize>
    Tensor<Rank3<A, B, C>, E, T>
{
    /// The elements as nested arrays, `[[[E; C]; B]; A]`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[[1.0], [2.0]]]);
    /// assert_eq!(t.to_array(), [[[1.0], [2.0]]]);
    /// ```
    #[must_use]
    pub fn to_array(&self) -> [[[E; C]; B]; A] {
        let d = self.as_slice();
        arr(|a| arr(|b| arr(|c| d[(a * B + b) * C + c])))
    }
}

impl<E: Element, T: Tracking<E>, const A: usize, const B: usize, const C: usize, const D: usize>
    Tensor<Rank4<A, B, C, D>, E, T>
{
    /// The elements as nested arrays, `[[[[E; D]; C]; B]; A]`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[[[1.0, 2.0]]]]);
    /// assert_eq!(t.to_array(), [[[[1.0, 2.0]]]]);
    /// ```
    #[must_use]
    pub fn to_array(&self) -> [[[[E; D]; C]; B]; A] {
        let d = self.as_slice();
        arr(|a| arr(|b| arr(|c| arr(|e| d[((a * B + b) * C + c) * D + e]))))
    }
}

impl<
    E: Element,
    T: Tracking<E>,
    const A: usize,
    const B: usize,
    const C: usize,
    const D: usize,
    const F: usize,
> Tensor<Rank5<A, B, C, D, F>, E, T>
{
    /// The elements as nested arrays, `[[[[[E; F]; D]; C]; B]; A]`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[[[[1.0], [2.0]]]]]);
    /// assert_eq!(t.to_array(), [[[[[1.0], [2.0]]]]]);
    /// ```
    #[must_use]
    pub fn to_array(&self) -> [[[[[E; F]; D]; C]; B]; A] {
        let d = self.as_slice();
        arr(|a| arr(|b| arr(|c| arr(|e| arr(|f| d[(((a * B + b) * C + c) * D + e) * F + f])))))
    }
}

impl<
    E: Element,
    T: Tracking<E>,
    const A: usize,
    const B: usize,
    const C: usize,
    const D: usize,
    const F: usize,
    const G: usize,
> Tensor<Rank6<A, B, C, D, F, G>, E, T>
{
    /// The elements as nested arrays, `[[[[[[E; G]; F]; D]; C]; B]; A]`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[[[[[1.0, 2.0, 3.0]]]]]]);
    /// assert_eq!(t.to_array(), [[[[[[1.0, 2.0, 3.0]]]]]]);
    /// ```
    #[must_use]
    #[allow(clippy::type_complexity)]
    pub fn to_array(&self) -> [[[[[[E; G]; F]; D]; C]; B]; A] {
        let d = self.as_slice();
        arr(|a| {
            arr(|b| {
                arr(|c| {
                    arr(|e| arr(|f| arr(|g| d[((((a * B + b) * C + c) * D + e) * F + f) * G + g])))
                })
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn assert_send_sync<X: Send + Sync>() {}

    #[test]
    fn tensors_and_grads_are_send_and_sync() {
        assert_send_sync::<Tensor<Rank2<3, 4>>>();
        assert_send_sync::<Tensor<Rank0, f64>>();
        assert_send_sync::<crate::Grads<f32>>();
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn nested_arrays_round_trip_at_every_rank() {
        let v = [1.0, 2.0];
        assert_eq!(Tensor::from(v).to_array(), v);
        let m = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        assert_eq!(Tensor::from(m).to_array(), m);
        let t3 = [
            [[1.0, 2.0], [3.0, 4.0]],
            [[5.0, 6.0], [7.0, 8.0]],
            [[9.0, 10.0], [11.0, 12.0]],
        ];
        let t = Tensor::from(t3);
        assert_eq!(t.shape(), [3, 2, 2]);
        assert_eq!(t.to_array(), t3);
        assert_eq!(t[[2, 0, 1]], 10.0);
        let t4 = [[[[1.0, 2.0], [3.0, 4.0]]], [[[5.0, 6.0], [7.0, 8.0]]]];
        assert_eq!(Tensor::from(t4).to_array(), t4);
        assert_eq!(Tensor::from(t4)[[1, 0, 1, 0]], 7.0);
        let t5 = [[[[[1.0, 2.0]], [[3.0, 4.0]]]]];
        assert_eq!(Tensor::from(t5).to_array(), t5);
        let t6 = [
            [[[[[1.0], [2.0]], [[3.0], [4.0]]]]],
            [[[[[5.0], [6.0]], [[7.0], [8.0]]]]],
        ];
        let t = Tensor::from(t6);
        assert_eq!(t.shape(), [2, 1, 1, 2, 2, 1]);
        assert_eq!(t.to_array(), t6);
        assert_eq!(t[[1, 0, 0, 1, 0, 0]], 7.0);
    }

    #[test]
    fn unsuffixed_literals_make_f64_and_a_type_annotation_makes_f32() {
        let a = Tensor::from([1.0, 2.0]);
        let _: &Tensor<Rank1<2>, f64> = &a;
        let b: Tensor<Rank1<2>> = Tensor::from([1.0, 2.0]);
        let _: &Tensor<Rank1<2>, f32> = &b;
    }

    #[test]
    fn from_vec_names_the_shape_and_both_counts() {
        let err = Tensor::<Rank3<2, 3, 4>, f64>::from_vec(vec![0.0; 25]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Length);
        assert_eq!(
            err.to_string(),
            "cannot build a tensor of shape [2, 3, 4] from 25 elements: it needs 24"
        );
        let err = Tensor::<Rank0>::from_slice(&[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot build a tensor of shape [] from 0 elements: it needs 1"
        );
    }

    #[test]
    #[should_panic(expected = "index [2, 0] is out of bounds for shape [2, 3]")]
    fn indexing_out_of_bounds_panics_with_the_shape() {
        let t: Tensor<Rank2<2, 3>> = Tensor::zeros();
        let _ = t[[2, 0]];
    }

    #[test]
    fn clone_shares_and_mutation_copies_on_write() {
        let mut a = Tensor::from([1.0_f32, 2.0]);
        let b = a.clone();
        assert!(a.shares_data(&b));
        a.as_mut_slice()[1] = 5.0;
        assert!(!a.shares_data(&b));
        assert_eq!(b.to_vec(), vec![1.0, 2.0]);
        // A unique tensor is mutated in place.
        let before = a.as_slice().as_ptr();
        a.as_mut_slice()[0] = 3.0;
        assert_eq!(a.as_slice().as_ptr(), before);
    }

    #[test]
    fn from_fn_fills_row_major_with_multi_indices() {
        let t = Tensor::<Rank3<2, 2, 3>, f64>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f64);
        assert_eq!(
            t.to_vec(),
            vec![
                0., 1., 2., 10., 11., 12., 100., 101., 102., 110., 111., 112.
            ]
        );
        let s = Tensor::<Rank0, f64>::from_fn(|[]| 4.0);
        assert_eq!(s.item(), 4.0);
    }

    #[test]
    fn approx_compares_elementwise() {
        let a = Tensor::from([1.0, 2.0]);
        let b = Tensor::from([1.0 + 1e-12, 2.0]);
        approx::assert_relative_eq!(a, b, max_relative = 1e-9);
        approx::assert_abs_diff_ne!(a, Tensor::from([1.0, 2.1]), epsilon = 0.05);
    }
}
