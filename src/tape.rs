//! Reverse-mode autodiff: the [`Tape`], the [`NoTape`] marker, and the typed gradient read-out
//! [`Grads`].
//!
//! Whether a tensor records is part of its type: `Tensor<S, E>` (that is, `Tensor<S, E, NoTape>`)
//! records nothing and costs nothing, `Tensor<S, E, Tape<E>>` records every op applied to it.
//!
//! ```
//! use shaped::{Tape, Tensor};
//!
//! let w = Tensor::from([1.0, 2.0, 3.0]);
//! let x = Tensor::from([4.0, 5.0, 6.0]);
//! let tape = Tape::new();
//! // Watch the parameter: every op on `wt` is recorded, whatever it is applied to first.
//! let wt = tape.watch(&w);
//! let loss = (&wt * &x).sum() + wt.powi(2).sum();
//! assert_eq!(loss.item(), 32.0 + 14.0);
//! let grads = loss.backward();
//! // d(sum(x * w) + sum(w^2))/dw = x + 2w
//! assert_eq!(grads.get(&wt).to_vec(), vec![6.0, 9.0, 12.0]);
//! ```
//!
//! # How recording works
//! - A tensor is *on a tape* when its type is `Tensor<S, E, Tape<E>>`. Every op with at least one
//!   operand on a tape records a backward closure there and returns a tensor on the same tape, so every
//!   path from a watched tensor to the loss is differentiated: layout ops, elementwise ops, reductions,
//!   a penalty on the parameter alone, a parameter used in several places.
//! - [`Tape::watch`] puts a tensor, or a whole model, on the tape as a **leaf**: its gradient is kept
//!   and read back after [`backward`](crate::Tensor::backward), with [`Grads::get`] for a tensor and
//!   [`Module::grads`](crate::Module::grads) for a model. A tensor watched twice, or used by many ops,
//!   is one leaf with one gradient buffer.
//! - A tensor that is not on the tape (data, labels, a mask) is a **constant** where it meets a taped
//!   value: nothing flows into it. [`Tape::input`] puts data on the tape as a constant. The one
//!   exception is the stored tensor of a leaf watched on that tape (`&model.w` beside `m.w`): it is
//!   that leaf. A clone of a tensor off the tape is a new variable, a leaf of its own when watched.
//! - There is no way to lose a parameter's gradient silently: asking for the gradient of a tensor
//!   that is on no tape does not compile ([`Grads::get`] takes a taped tensor), asking for that of a
//!   taped tensor that was not watched (an op's result, a [`Tape::input`]) panics, and
//!   [`Module::grads`](crate::Module::grads) panics if the model was not watched on that tape. A
//!   watched parameter that the loss does not depend on reads as zeros, and
//!   [`Module::unused_params`](crate::Module::unused_params) names it.
//! - Gradients accumulate: a tensor used twice receives the sum of both contributions, and a diamond
//!   (one value feeding two branches that meet again) is handled by running the closures in reverse
//!   recording order, which is a topological order.
//! - A tape lives in one thread (it is not `Send`). Each thread makes its own; nothing is shared between
//!   tapes, and no lock is taken.
//! - `backward` consumes what was recorded: running it twice on the same tape panics.
//! - Ops of your own record like the crate's: [`Tensor::unary`](crate::Tensor::unary) from `f` and
//!   `f'`, and [`CustomOp`](crate::CustomOp) for any op of typed inputs.
//!
//! # Cost
//! One boxed closure and one node entry per recorded op, gradients stored in a `Vec` indexed by node (no
//! hash map), and the recorded closures dropped as they run. Inference (`NoTape`) records nothing: the
//! closure-building code is not even called. While a tape with watched tensors is live, an op off
//! the tapes also looks up its inputs among that tape's watched and derived values (see
//! [`NoTape`]); with no such tape on the thread, it reads one thread-local counter.

use core::cell::RefCell;
use core::fmt;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use crate::buffer::Buffer;

use crate::{Element, Rank0, Shape, Tensor, Trainable};

pub(crate) mod internal {
    use super::{Buffer, Element, Tape};

    /// Index of a node (a value that may need a gradient) on a tape.
    pub type NodeId = u32;

    /// The backward closure of one op: given the gradient of its output, accumulate into its inputs'.
    pub type BackwardFn<E> = Box<dyn FnOnce(&[E], &mut GradStore<E>)>;

    /// The gradients of all nodes during a backward pass, indexed by node.
    pub struct GradStore<E: Element> {
        pub(crate) grads: Vec<Option<Buffer<E>>>,
        pub(crate) sizes: Vec<usize>,
    }

    impl<E: Element> GradStore<E> {
        /// The gradient buffer of `node`, created as zeros on first use; add into it.
        #[inline]
        pub fn acc(&mut self, node: NodeId) -> &mut [E] {
            let size = self.sizes[node as usize];
            self.grads[node as usize].get_or_insert_with(|| Buffer::zeros(size))
        }

        /// Adds `values` (one per element, in order) into the gradient of `node`; when it has none
        /// yet, the values are written directly (no zeroing first).
        #[inline]
        pub fn add_from(&mut self, node: NodeId, values: impl ExactSizeIterator<Item = E>) {
            let size = self.sizes[node as usize];
            match &mut self.grads[node as usize] {
                Some(g) => g.iter_mut().zip(values).for_each(|(d, v)| *d += v),
                slot @ None => *slot = Some(Buffer::collect(size, values)),
            }
        }

        /// Like [`acc`](Self::acc), but a buffer created here is *not* zeroed: the second value is
        /// `true` then, and the caller must overwrite every element (a product with `beta = 0`).
        #[inline]
        pub fn acc_fresh(&mut self, node: NodeId) -> (&mut [E], bool) {
            let size = self.sizes[node as usize];
            let slot = &mut self.grads[node as usize];
            let fresh = slot.is_none();
            (slot.get_or_insert_with(|| Buffer::uninit(size)), fresh)
        }

        /// [`acc_fresh`](Self::acc_fresh) for two different nodes at once, so that one pass can
        /// write both gradients; `None` when `a` and `b` are the same node (nothing is created then).
        #[inline]
        pub fn acc_fresh_pair(&mut self, a: NodeId, b: NodeId) -> Option<[(&mut [E], bool); 2]> {
            if a == b {
                return None;
            }
            let (a, b) = (a as usize, b as usize);
            let fresh = [self.grads[a].is_none(), self.grads[b].is_none()];
            let sizes = [self.sizes[a], self.sizes[b]];
            let [ga, gb] = self.grads.get_disjoint_mut([a, b]).ok()?;
            Some([
                (ga.get_or_insert_with(|| Buffer::uninit(sizes[0])), fresh[0]),
                (gb.get_or_insert_with(|| Buffer::uninit(sizes[1])), fresh[1]),
            ])
        }
    }

    /// How an operand enters an op, as far as the tape is concerned.
    #[derive(Clone, Copy)]
    pub enum Input<'a, E: Element> {
        /// No operand (an unused slot of a custom op).
        Absent,
        /// Not on any tape, with its tensor id: a constant, unless it is a leaf watched on the tape
        /// that records the op (the stored tensor of a watched parameter), which it then stands for.
        Constant(u64),
        /// On a tape, with the node of its value (`None`: no gradient flows to it).
        Tracked(&'a Tape<E>),
    }

    /// The recording half of [`Tracking`](super::Tracking), hidden from users.
    pub trait Record<E: Element>: Clone + 'static {
        /// Whether this type records (false for `NoTape`).
        const RECORDS: bool;

        /// A tensor with this tracking and the id `id`, as an op input.
        fn input(&self, id: u64) -> Input<'_, E>;

        /// Records an op with the given inputs whose output has `out_numel` elements. `make` receives
        /// the node of each input (`None`: no gradient needed there) and builds the backward closure; it
        /// is called only if some input needs a gradient. Returns the output's tracking.
        fn record<const N: usize>(
            &self,
            inputs: [Input<'_, E>; N],
            out_numel: usize,
            make: impl FnOnce([Option<NodeId>; N]) -> BackwardFn<E>,
        ) -> Self;

        /// The tracking, on this tracking's tape, of an operand entering as `input`: a tracked one
        /// keeps its node, the stored tensor of a leaf watched on this tape is that leaf, anything
        /// else is a constant.
        fn lift(&self, input: Input<'_, E>) -> Self;

        /// The tracking of a tensor that shares its value's node (reshape: same elements, same order).
        fn alias(&self) -> Self {
            self.clone()
        }
    }
}
pub(crate) use internal::NodeId;
use internal::{BackwardFn, GradStore, Input, Record};

/// Whether a tensor records its ops: [`NoTape`] (inference, data) or [`Tape<E>`] (training).
///
/// This is the third type parameter of [`Tensor`]. Code generic over it serves training and
/// inference; a model is generic over it so that [`Tape::watch`] can put all its parameters on a tape
/// (see [`Module`](crate::Module)):
///
/// ```
/// use shaped::{NoTape, Rank1, Tape, Tensor, Tracking};
///
/// fn double<T: Tracking<f64>>(x: Tensor<Rank1<2>, f64, T>) -> Tensor<Rank1<2>, f64, T> {
///     x * 2.0
/// }
/// // inference
/// assert_eq!(double(Tensor::from([1.0, 2.0])).to_vec(), vec![2.0, 4.0]);
/// // training
/// let tape = Tape::new();
/// let x = tape.watch(&Tensor::from([1.0, 2.0]));
/// let grads = double(x.clone()).sum().backward();
/// assert_eq!(grads.get(&x).to_vec(), vec![2.0, 2.0]);
/// ```
pub trait Tracking<E: Element>:
    Record<E> + Merge<E, NoTape, Output = Self> + Merge<E, Self, Output = Self> + fmt::Debug
{
}

/// How the tapes of two operands combine (type level): the result records if either operand does.
///
/// | `Self` | `Rhs` | `Output` |
/// |---|---|---|
/// | `NoTape` | any `T` | `T` |
/// | `Tape<E>` | `NoTape` | `Tape<E>` (the untracked operand is a constant) |
/// | `Tape<E>` | `Tape<E>` | `Tape<E>` (the same tape; two different tapes panic) |
///
/// ```
/// use shaped::{Merge, Rank1, Tape, Tensor, Tracking};
/// // Generic code over the tracking of both operands: the result is on a tape if either is.
/// fn weighted<T1: Tracking<f64> + Merge<f64, T2>, T2: Tracking<f64>>(
///     x: &Tensor<Rank1<2>, f64, T1>,
///     w: &Tensor<Rank1<2>, f64, T2>,
/// ) -> Tensor<Rank1<2>, f64, <T1 as Merge<f64, T2>>::Output> {
///     x * w
/// }
/// let (x, w) = (Tensor::from([1.0, 2.0]), Tensor::from([3.0, 4.0]));
/// assert_eq!(weighted(&x, &w).to_vec(), vec![3.0, 8.0]); // NoTape, NoTape -> NoTape
/// let tape = Tape::new();
/// let wt = tape.watch(&w);
/// let grads = weighted(&x, &wt).sum().backward(); // NoTape, Tape -> Tape
/// assert_eq!(grads.get(&wt).to_vec(), vec![1.0, 2.0]); // d(sum(x w))/dw = x
/// ```
#[diagnostic::on_unimplemented(
    message = "cannot combine a tensor tracked by `{Self}` with one tracked by `{Rhs}`",
    note = "both operands must have the same element type and be on the same tape, or on none"
)]
pub trait Merge<E: Element, Rhs> {
    /// The tracking of the result.
    type Output: Tracking<E>;
    /// The tracking of the result, at run time.
    #[doc(hidden)]
    fn merge(&self, rhs: &Rhs) -> Self::Output;
}

/// The tracking of a tensor that records nothing: inference, data, a model's stored parameters.
///
/// `Tensor<S, E>` means `Tensor<S, E, NoTape>`. Ops on such tensors compute their result and nothing
/// else; where one meets a tensor on a tape, it is a constant. The exception is a watched tensor's
/// stored value, and what is computed from it while its tape is live (after the watch, before
/// `backward`): it stands for the watched tensor, so a penalty written on the stored model is
/// differentiated.
///
/// ```
/// use shaped::{Tape, Tensor};
/// let w = Tensor::from([1.0, 2.0]);
/// let tape = Tape::new();
/// let wt = tape.watch(&w);
/// let penalty = w.powi(2).sum(); // computed from the stored `w` while it is watched
/// let grads = ((&wt * 3.0).sum() + penalty).backward();
/// assert_eq!(grads.get(&wt).to_vec(), vec![5.0, 7.0]); // d(3 sum(w) + sum(w^2))/dw = 3 + 2w
/// ```
///
/// ```
/// use shaped::{NoTape, Rank1, Tape, Tensor};
/// let c: Tensor<Rank1<2>, f64, NoTape> = Tensor::from([2.0, 3.0]);
/// let tape = Tape::new();
/// let w = tape.watch(&Tensor::from([5.0, 7.0]));
/// let grads = (&w * &c).sum().backward();
/// // `c` is a constant: d(sum(w c))/dw = c, and nothing is kept for `c`
/// assert_eq!(grads.get(&w).to_vec(), vec![2.0, 3.0]);
/// assert_eq!(grads.len(), 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTape;

impl<E: Element> Record<E> for NoTape {
    const RECORDS: bool = false;

    #[inline]
    fn input(&self, id: u64) -> Input<'_, E> {
        Input::Constant(id)
    }

    #[inline]
    fn record<const N: usize>(
        &self,
        inputs: [Input<'_, E>; N],
        out_numel: usize,
        make: impl FnOnce([Option<NodeId>; N]) -> BackwardFn<E>,
    ) -> Self {
        if LIVE_TAPES.get() != 0 {
            record_off_tape(inputs, out_numel, make);
        }
        NoTape
    }

    #[inline]
    fn lift(&self, _input: Input<'_, E>) -> Self {
        NoTape
    }
}
impl<E: Element> Tracking<E> for NoTape {}

impl<E: Element, T: Tracking<E>> Merge<E, T> for NoTape {
    type Output = T;
    #[inline]
    fn merge(&self, rhs: &T) -> T {
        rhs.clone()
    }
}

impl<E: Element> Merge<E, NoTape> for Tape<E> {
    type Output = Tape<E>;
    #[inline]
    fn merge(&self, _rhs: &NoTape) -> Tape<E> {
        self.clone()
    }
}

impl<E: Element> Merge<E, Tape<E>> for Tape<E> {
    type Output = Tape<E>;
    #[inline]
    fn merge(&self, rhs: &Tape<E>) -> Tape<E> {
        self.same_tape(rhs);
        self.clone()
    }
}

/// The tracking of a value recorded on a tape: what [`backward`](Tensor::backward) needs.
///
/// Implemented by [`Tape<E>`] only, so `backward` on a tensor that is not on a tape does not compile.
///
/// ```
/// use shaped::{OnTape, Rank0, Tape, Tensor};
/// // A helper that runs backward needs its argument on a tape.
/// fn watched_with_gradient<T: OnTape<f64>>(loss: &Tensor<Rank0, f64, T>) -> usize {
///     loss.backward().len()
/// }
/// let tape = Tape::new();
/// let x = tape.watch(&Tensor::from([1.0, 2.0]));
/// assert_eq!(watched_with_gradient(&x.sum()), 1);
/// ```
#[diagnostic::on_unimplemented(
    message = "`backward` needs a value recorded on a tape, but this tensor is tracked by `{Self}`",
    label = "this value was computed off any tape, so nothing was recorded to differentiate",
    note = "put the parameters on a tape first: `let m = tape.watch(&model);` (or `tape.watch(&w)` for a \
            tensor), or let `model.value_and_grad(|m| loss)` do it; a model is trainable when it is \
            generic over its tracking, `struct Model<T: Tracking<f32> = NoTape>`"
)]
pub trait OnTape<E: Element>: Tracking<E> + sealed::Sealed {
    /// The tape.
    #[doc(hidden)]
    fn as_tape(&self) -> &Tape<E>;
}

impl<E: Element> OnTape<E> for Tape<E> {
    #[inline]
    fn as_tape(&self) -> &Tape<E> {
        self
    }
}

/// The tracking of a tensor that can have a gradient: what [`Grads::get`] takes.
///
/// Implemented by [`Tape<E>`] only: asking for the gradient of a tensor that was never put on a tape
/// does not compile (it could only read as a silent zero).
///
/// ```
/// use shaped::{Grads, Rank1, Tape, Tensor, Watched};
/// fn grad_norm2<T: Watched<f64>>(grads: &Grads<f64>, p: &Tensor<Rank1<2>, f64, T>) -> f64 {
///     grads.get(p).powi(2).sum().item()
/// }
/// let tape = Tape::new();
/// let p = tape.watch(&Tensor::from([1.0, -2.0]));
/// let grads = p.powi(2).sum().backward(); // gradient 2p = [2, -4]
/// assert_eq!(grad_norm2(&grads, &p), 20.0); // 4 + 16
/// ```
#[diagnostic::on_unimplemented(
    message = "only a tensor watched on a tape has a gradient, but this tensor is tracked by `{Self}`",
    label = "not on a tape",
    note = "watch it and compute with the watched tensor: `let wt = tape.watch(&w);`, then \
            `grads.get(&wt)`; for a model, `model.grads(&grads)`"
)]
pub trait Watched<E: Element>: Tracking<E> + sealed::Sealed {}
impl<E: Element> Watched<E> for Tape<E> {}

/// A shape with a single element and no axes: what [`backward`](Tensor::backward) starts from.
///
/// Implemented by [`Rank0`] only, so `backward` on a non-scalar does not compile.
///
/// ```compile_fail,E0277
/// use shaped::{Tape, Tensor};
/// let tape = Tape::new();
/// let x = tape.watch(&Tensor::from([1.0, 2.0]));
/// let _ = (&x * 2.0).backward(); // `backward` needs a scalar loss, but this tensor has shape `Rank1<2>`
/// ```
///
/// ```
/// use shaped::{Tape, Tensor};
/// let tape = Tape::new();
/// let x = tape.watch(&Tensor::from([1.0, 2.0]));
/// let grads = (&x * 2.0).sum().backward(); // `sum` gives a Rank0
/// assert_eq!(grads.get(&x).to_vec(), vec![2.0, 2.0]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`backward` needs a scalar loss, but this tensor has shape `{Self}`",
    label = "not a scalar",
    note = "reduce it to a scalar first (`.sum()`, `.mean()`, a loss), or seed the backward pass with \
            a gradient of this shape: `backward_with(&grad)`"
)]
pub trait ScalarShape: Shape + sealed::Sealed {}
impl ScalarShape for Rank0 {}

mod sealed {
    pub trait Sealed {}
    impl<E: crate::Element> Sealed for super::Tape<E> {}
    impl Sealed for crate::Rank0 {}
}

/// One recorded op: the node of its output and its backward closure.
struct Recorded<E: Element> {
    out: NodeId,
    run: BackwardFn<E>,
}

/// What a tape holds. Its vectors keep their capacity from one use to the next: a dropped tape's
/// state goes back to the thread's pool and the next [`Tape::new`] reuses it.
pub(crate) struct TapeState<E: Element> {
    /// The number of elements of each node's value.
    sizes: Vec<usize>,
    /// Recorded ops, in execution order.
    ops: Vec<Recorded<E>>,
    /// Watched tensors: (tensor id, node), one entry per tensor.
    leaves: Vec<(u64, NodeId)>,
    /// Values off the tapes computed from watched tensors while this tape was live: (tensor id,
    /// node). Such a value stands for its node where it meets this tape.
    derived: Vec<(u64, NodeId)>,
    /// Whether this state is in its thread's list of live tapes.
    live: bool,
    /// The gradients of a backward pass, by node (empty between passes).
    grads: Vec<Option<Buffer<E>>>,
    /// Whether `backward` already ran.
    spent: bool,
}

impl<E: Element> TapeState<E> {
    fn empty() -> Self {
        Self {
            sizes: Vec::with_capacity(32),
            ops: Vec::with_capacity(16),
            leaves: Vec::with_capacity(16),
            derived: Vec::new(),
            live: false,
            grads: Vec::new(),
            spent: false,
        }
    }

    fn clear(&mut self) {
        self.sizes.clear();
        self.ops.clear();
        self.leaves.clear();
        self.derived.clear();
        self.grads.clear();
        self.spent = false;
    }

    fn new_node(&mut self, numel: usize) -> NodeId {
        let id = NodeId::try_from(self.sizes.len()).expect("a tape holds at most 2^32 values");
        self.sizes.push(numel);
        id
    }

    /// The leaf node of the watched tensor with this id, if it was watched.
    #[inline]
    fn watched(&self, id: u64) -> Option<NodeId> {
        self.leaves
            .iter()
            .find(|&&(leaf, _)| leaf == id)
            .map(|&(_, node)| node)
    }

    /// The node a tensor off the tapes stands for on this tape: the leaf of a watched tensor, or the
    /// node of a value computed from watched tensors by ops off the tapes.
    #[inline]
    fn node_of(&self, id: u64) -> Option<NodeId> {
        self.watched(id).or_else(|| {
            self.derived
                .iter()
                .rev()
                .find(|&&(value, _)| value == id)
                .map(|&(_, node)| node)
        })
    }

    /// The leaf node of the tensor with this id, created on first use.
    fn leaf(&mut self, id: u64, numel: usize) -> NodeId {
        if let Some(node) = self.watched(id) {
            return node;
        }
        let node = self.new_node(numel);
        self.leaves.push((id, node));
        node
    }
}

/// Spare tape states kept per thread.
const SPARE_TAPES: usize = 4;

/// A dropped tape's state, kept for reuse.
pub(crate) fn keep_spare<E: Element>(
    spares: &mut Vec<Rc<RefCell<TapeState<E>>>>,
    state: Rc<RefCell<TapeState<E>>>,
) {
    if spares.len() < SPARE_TAPES {
        spares.push(state);
    }
}

/// A recording of the ops applied to tensors on it, for reverse-mode differentiation.
///
/// Make one per training step (it is cheap), [`watch`](Tape::watch) the model (or the tensors whose
/// gradients you want), run the forward pass, and call [`backward`](crate::Tensor::backward) on the
/// scalar loss. A `Tape` value is a handle: cloning it refers to the same recording.
///
/// ```
/// use shaped::{Tape, Tensor};
///
/// let x = Tensor::from([1.0, 2.0, 3.0]);
/// let tape = Tape::new();
/// let xt = tape.watch(&x);
/// // y = sum(x * x), dy/dx = 2x; `xt` is used twice and both uses accumulate.
/// let y = (&xt * &xt).sum();
/// let grads = y.backward();
/// assert_eq!(grads.get(&xt).to_vec(), vec![2.0, 4.0, 6.0]);
/// ```
pub struct Tape<E: Element> {
    state: Rc<RefCell<TapeState<E>>>,
    /// The node of the tensor this handle belongs to (`None` for the tape itself and for values that
    /// need no gradient).
    node: Option<NodeId>,
}

impl<E: Element> Clone for Tape<E> {
    #[inline]
    fn clone(&self) -> Self {
        Self {
            state: Rc::clone(&self.state),
            node: self.node,
        }
    }
}

impl<E: Element> fmt::Debug for Tape<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Tape")
            .field("ops", &state.ops.len())
            .field("leaves", &state.leaves.len())
            .field("node", &self.node)
            .finish()
    }
}

impl<E: Element> Default for Tape<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Element> Tape<E> {
    /// A new, empty tape.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let tape = Tape::<f64>::new();
    /// assert!(tape.is_empty());
    /// let x = tape.watch(&Tensor::from([3.0]));
    /// let grads = x.powi(2).sum().backward();
    /// assert_eq!(grads.get(&x).to_vec(), vec![6.0]); // d(x^2)/dx = 2x
    /// ```
    #[must_use]
    pub fn new() -> Self {
        let state = E::with_pool(|p| p.tapes.pop()).flatten().map_or_else(
            || Rc::new(RefCell::new(TapeState::empty())),
            |state| {
                state.borrow_mut().clear();
                state
            },
        );
        Self { state, node: None }
    }

    /// A handle on this tape for the given node.
    #[inline]
    fn handle(&self, node: Option<NodeId>) -> Self {
        Self {
            state: Rc::clone(&self.state),
            node,
        }
    }

    /// Puts `t` on this tape as a constant: ops on the result are recorded, but no gradient flows
    /// into `t`. Shares `t`'s data. (A tensor off the tape that meets a taped value in an op is a
    /// constant too; `input` only changes the type, for code that wants its argument on a tape.)
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([[1.0, 2.0]]);
    /// let w = Tensor::from([[3.0], [4.0]]);
    /// let tape = Tape::new();
    /// let wt = tape.watch(&w);
    /// let grads = tape.input(&x).matmul(&wt).sum().backward();
    /// // d(x w)/dw = x^T
    /// assert_eq!(grads.get(&wt).to_vec(), vec![1.0, 2.0]);
    /// ```
    #[must_use]
    pub fn input<S: Shape>(&self, t: &Tensor<S, E>) -> Tensor<S, E, Tape<E>> {
        Tensor::with_id(
            Arc::clone(t.data()),
            t.id(),
            t.typed_shape(),
            self.handle(None),
        )
    }

    /// Puts a tensor, or every parameter of a model, on this tape and keeps their gradients: every op
    /// on the result is recorded, and after `backward`, [`Grads::get`] (for a tensor) or
    /// [`Module::grads`](crate::Module::grads) (for a model) reads them. Shares the data (no copy).
    ///
    /// A tensor is one leaf of the tape however often it is watched or used: its gradient
    /// accumulates in one buffer.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([3.0_f64]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let grads = xt.exp().sum().backward();
    /// // d(e^x)/dx = e^x
    /// assert_eq!(grads.get(&xt).to_vec(), vec![3.0_f64.exp()]);
    /// ```
    ///
    /// For a model (a struct with `#[derive(Module)]` that is generic over its tracking), the result
    /// is the same model with its parameters on the tape; see [`Module`](crate::Module).
    #[must_use]
    pub fn watch<M: Trainable<Elem = E>>(&self, m: &M) -> M::Tracked {
        m.track(self)
    }

    /// `t` as a leaf of this tape (the node is created on first use).
    pub(crate) fn watch_tensor<S: Shape>(&self, t: &Tensor<S, E>) -> Tensor<S, E, Tape<E>> {
        let node = self.state.borrow_mut().leaf(t.id(), t.numel());
        self.go_live();
        Tensor::with_id(
            Arc::clone(t.data()),
            t.id(),
            t.typed_shape(),
            self.handle(Some(node)),
        )
    }

    /// The number of ops recorded so far (ops that need no gradient are not recorded).
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let tape = Tape::<f32>::new();
    /// let x = Tensor::from([1.0_f32, 2.0]);
    /// let _ = tape.input(&x).exp(); // nothing upstream needs a gradient: not recorded
    /// assert_eq!(tape.len(), 0);
    /// let _ = tape.watch(&x).exp();
    /// assert_eq!(tape.len(), 1);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.state.borrow().ops.len()
    }

    /// Whether no op has been recorded.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.watch(&Tensor::from([1.0_f32]));
    /// assert!(tape.is_empty()); // watching records no op
    /// let _ = x.exp();
    /// assert!(!tape.is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of watched tensors (leaves): one per tensor, however often it is watched or used.
    /// `backward` consumes them with the rest of the recording, so it reads 0 afterwards.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let w = Tensor::from([1.0_f32, 2.0]);
    /// let tape = Tape::new();
    /// let (a, b) = (tape.watch(&w), tape.watch(&w));
    /// let _ = (&a * &b + &a).sum();
    /// assert_eq!(tape.leaves(), 1);
    /// ```
    #[must_use]
    pub fn leaves(&self) -> usize {
        self.state.borrow().leaves.len()
    }

    /// Enters this thread's list of live tapes (once), so that ops off the tapes on its watched
    /// tensors are recorded here.
    fn go_live(&self) {
        let mut state = self.state.borrow_mut();
        if state.live || state.spent {
            return;
        }
        let weak = Rc::downgrade(&self.state);
        if E::with_pool(|p| p.live.push(weak)).is_some() {
            state.live = true;
            LIVE_TAPES.set(LIVE_TAPES.get() + 1);
        }
    }

    /// Leaves the list of live tapes: after `backward`, or when the last handle is dropped.
    fn leave_live(&self) {
        let mut state = self.state.borrow_mut();
        if !state.live {
            return;
        }
        state.live = false;
        LIVE_TAPES.set(LIVE_TAPES.get() - 1);
        let me = Rc::as_ptr(&self.state);
        E::with_pool(|p| p.live.retain(|w| w.as_ptr() != me));
    }

    fn same_tape(&self, other: &Self) {
        assert!(
            Rc::ptr_eq(&self.state, &other.state),
            "cannot combine tensors recorded on two different tapes"
        );
    }

    /// Runs the recorded closures backward from this handle's node, seeded with `seed`.
    pub(crate) fn run_backward(&self, seed: Buffer<E>) -> Grads<E> {
        self.leave_live();
        let (mut ops, mut leaves, sizes, grads) = {
            let mut state = self.state.borrow_mut();
            assert!(
                !state.spent,
                "backward was already run on this tape; record the forward pass again"
            );
            state.spent = true;
            (
                core::mem::take(&mut state.ops),
                core::mem::take(&mut state.leaves),
                core::mem::take(&mut state.sizes),
                core::mem::take(&mut state.grads),
            )
        };
        let mut store = GradStore { grads, sizes };
        store.grads.resize_with(store.sizes.len(), || None);
        if let Some(node) = self.node {
            store.grads[node as usize] = Some(seed);
        }
        for op in ops.drain(..).rev() {
            if let Some(dy) = store.grads[op.out as usize].take() {
                (op.run)(&dy, &mut store);
            }
        }
        #[cfg(test)]
        testing::HELD_AFTER_BACKWARD.set(store.grads.iter().filter(|g| g.is_some()).count());
        // One entry per watched tensor, with its gradient if the output depended on it.
        leaves.sort_unstable_by_key(|&(id, _)| id);
        let entries = leaves
            .iter()
            .map(|&(id, node)| (id, store.grads[node as usize].take().map(Arc::new)))
            .collect();
        // Hand the emptied vectors back, so the next use of this state allocates none.
        let GradStore {
            mut grads,
            mut sizes,
        } = store;
        grads.clear();
        sizes.clear();
        leaves.clear();
        let mut state = self.state.borrow_mut();
        state.ops = ops;
        state.leaves = leaves;
        state.sizes = sizes;
        state.grads = grads;
        Grads { entries }
    }
}

impl<E: Element> Drop for Tape<E> {
    fn drop(&mut self) {
        // The last handle of a tape returns its state to the thread's spares.
        if Rc::strong_count(&self.state) == 1 {
            self.leave_live();
            let state = Rc::clone(&self.state);
            E::with_pool(|p| keep_spare(&mut p.tapes, state));
        }
    }
}

impl<E: Element> Record<E> for Tape<E> {
    const RECORDS: bool = true;

    #[inline]
    fn input(&self, _id: u64) -> Input<'_, E> {
        Input::Tracked(self)
    }

    fn record<const N: usize>(
        &self,
        inputs: [Input<'_, E>; N],
        out_numel: usize,
        make: impl FnOnce([Option<NodeId>; N]) -> BackwardFn<E>,
    ) -> Self {
        let mut nodes = [None; N];
        for (slot, input) in nodes.iter_mut().zip(inputs) {
            match input {
                Input::Tracked(t) => {
                    self.same_tape(t);
                    *slot = t.node;
                }
                // The one place where an operand off the tape meets a taped one: the stored tensor
                // of a parameter watched here (`&model.w` inside `value_and_grad`) is that parameter.
                Input::Constant(id) => *slot = self.state.borrow().node_of(id),
                Input::Absent => {}
            }
        }
        if nodes.iter().all(Option::is_none) {
            return self.handle(None);
        }
        let out = self.state.borrow_mut().new_node(out_numel);
        let run = make(nodes);
        self.state.borrow_mut().ops.push(Recorded { out, run });
        self.handle(Some(out))
    }

    fn lift(&self, input: Input<'_, E>) -> Self {
        match input {
            Input::Tracked(t) => {
                self.same_tape(t);
                t.clone()
            }
            Input::Constant(id) => self.handle(self.state.borrow().node_of(id)),
            Input::Absent => self.handle(None),
        }
    }
}
impl<E: Element> Tracking<E> for Tape<E> {}

thread_local! {
    /// How many tapes of this thread (of any element type) are live: have watched tensors and no
    /// backward pass yet. While none is, an op off the tapes costs this one read.
    static LIVE_TAPES: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// An op off the tapes, while a tape is live: if an input stands for a node of a live tape (a
/// watched tensor's stored value, or a value computed from one), the op is recorded on that tape,
/// and the tensor the op makes next ([`adopt_pending`]) stands for its output. This is how
/// `model.w.powi(2)` on the stored model, inside `value_and_grad`, reaches `w`'s gradient.
#[cold]
fn record_off_tape<E: Element, const N: usize>(
    inputs: [Input<'_, E>; N],
    out_numel: usize,
    make: impl FnOnce([Option<NodeId>; N]) -> BackwardFn<E>,
) {
    let found = E::with_pool(|p| {
        p.pending = None;
        p.live.iter().find_map(|weak| {
            let state = weak.upgrade()?;
            let borrowed = state.try_borrow().ok()?;
            let mut nodes = [None; N];
            for (slot, input) in nodes.iter_mut().zip(&inputs) {
                if let Input::Constant(id) = *input {
                    *slot = borrowed.node_of(id);
                }
            }
            drop(borrowed);
            nodes.iter().any(Option::is_some).then_some((state, nodes))
        })
    })
    .flatten();
    let Some((state, nodes)) = found else { return };
    let out = state.borrow_mut().new_node(out_numel);
    let run = make(nodes);
    state.borrow_mut().ops.push(Recorded { out, run });
    E::with_pool(|p| p.pending = Some((Rc::downgrade(&state), out, out_numel)));
}

/// Gives the tensor with id `id` and `numel` elements, just made by an op off the tapes, the node
/// that op was recorded as, if it was.
#[inline]
pub(crate) fn adopt_pending<E: Element>(id: u64, numel: usize) {
    if LIVE_TAPES.get() != 0 {
        E::with_pool(|p| {
            if let Some((weak, node, n)) = p.pending.take()
                && n == numel
                && let Some(state) = weak.upgrade()
            {
                state.borrow_mut().derived.push((id, node));
            }
        });
    }
}

/// A tensor off the tapes copied under a new id (a clone): the copy stands for the same node as
/// the value `from`, if that value was computed from watched tensors (a watched tensor's clone is
/// a new variable, not the leaf).
pub(crate) fn alias_derived<E: Element>(from: u64, to: u64) {
    if LIVE_TAPES.get() != 0 {
        E::with_pool(|p| {
            for state in p.live.iter().filter_map(Weak::upgrade) {
                let Ok(mut state) = state.try_borrow_mut() else {
                    continue;
                };
                let node = state
                    .derived
                    .iter()
                    .rev()
                    .find(|&&(value, _)| value == from)
                    .map(|&(_, node)| node);
                if let Some(node) = node {
                    state.derived.push((to, node));
                }
            }
        });
    }
}

#[cfg(test)]
pub(crate) mod testing {
    thread_local! {
        /// The number of gradient buffers held when the last backward pass of this thread had run
        /// all its closures.
        pub(crate) static HELD_AFTER_BACKWARD: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
    }
}

/// The gradients a backward pass computed, one per watched tensor, read with their own types.
///
/// [`Grads::get`] takes the watched tensor whose gradient you want and returns a tensor of the same
/// shape and element type: the types guarantee the shape, so nothing is checked at run time. A watched
/// tensor that the output did not depend on reads as zeros. For a model, read them all at once with
/// [`Module::grads`](crate::Module::grads).
///
/// ```
/// use shaped::{Rank2, Tape, Tensor};
///
/// let a: Tensor<Rank2<3, 4>, f64> = Tensor::full(2.0);
/// let unused: Tensor<Rank2<3, 4>, f64> = Tensor::full(1.0);
/// let x: Tensor<Rank2<3, 4>, f64> = Tensor::ones();
/// let tape = Tape::new();
/// let (at, ut) = (tape.watch(&a), tape.watch(&unused));
/// let grads = (&at * &x).sum().backward();
/// let ga: Tensor<Rank2<3, 4>, f64> = grads.get(&at);
/// assert_eq!(ga, Tensor::ones());
/// assert_eq!(grads.get(&ut), Tensor::zeros());
/// assert!(!grads.contains(&ut));
/// ```
#[derive(Clone)]
pub struct Grads<E: Element> {
    /// Every watched tensor by id (sorted), with its gradient if the output depended on it.
    entries: Vec<(u64, Option<Arc<Buffer<E>>>)>,
}

impl<E: Element> Grads<E> {
    /// The entry of the watched tensor with this id (`None` if it was not watched).
    fn entry(&self, id: u64) -> Option<&Option<Arc<Buffer<E>>>> {
        self.entries
            .binary_search_by_key(&id, |&(k, _)| k)
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// The gradient of the last backward pass's output with respect to the watched tensor `t`, zeros if
    /// the output did not depend on it. Shares the gradient's buffer (no copy).
    ///
    /// # Panics
    /// If `t` is not a watched tensor of that tape (an op's result, or a tensor put on it with
    /// [`Tape::input`]): only watched tensors keep a gradient.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.watch(&Tensor::from([1.0, 2.0]));
    /// let y = &x * &x;
    /// let grads = y.sum().backward();
    /// assert_eq!(grads.get(&x).to_vec(), vec![2.0, 4.0]); // 2x
    /// // `y` is on the tape but is not a watched leaf: no gradient is kept for it.
    /// let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| grads.get(&y)));
    /// assert!(read.is_err());
    /// ```
    #[must_use]
    pub fn get<S: Shape, T: Watched<E>>(&self, t: &Tensor<S, E, T>) -> Tensor<S, E> {
        let entry = self.entry(t.id()).unwrap_or_else(|| {
            panic!(
                "Grads::get: this tensor is not a watched leaf of the tape these gradients come \
                 from; only tensors put on it with `Tape::watch` keep a gradient"
            )
        });
        Self::tensor(entry.as_ref(), t.typed_shape())
    }

    fn tensor<S: Shape>(entry: Option<&Arc<Buffer<E>>>, shape: S) -> Tensor<S, E> {
        match entry {
            Some(g) => Tensor::from_parts(Arc::clone(g), shape, NoTape),
            None => Tensor::zeros_with(shape),
        }
    }

    /// The gradient of a model's parameter (see [`Module::grads`](crate::Module::grads)): a trained
    /// parameter must have been watched; any other reads as zeros when it was not.
    pub(crate) fn of_param<S: Shape>(&self, t: &Tensor<S, E>, trained: bool) -> Tensor<S, E> {
        match self.entry(t.id()) {
            Some(entry) => Self::tensor(entry.as_ref(), t.typed_shape()),
            None if trained => panic!(
                "Module::grads: the model was not watched on the tape these gradients come from; \
                 put it on the tape with `let m = tape.watch(&model)` and run the forward pass on \
                 `m` (or use `model.value_and_grad(|m| loss)`)"
            ),
            None => Tensor::zeros_with(t.typed_shape()),
        }
    }

    /// Whether a model's parameter got no gradient although it should have: a trained parameter
    /// without one, or a watched frozen one.
    ///
    /// # Panics
    /// If a trained parameter was not watched on the tape these gradients come from, as
    /// [`of_param`](Self::of_param) does: every parameter would be listed, none rightly.
    pub(crate) fn unused<S: Shape>(&self, t: &Tensor<S, E>, trained: bool) -> bool {
        match self.entry(t.id()) {
            Some(entry) => entry.is_none(),
            None if trained => panic!(
                "Module::unused_params: the model was not watched on the tape these gradients come \
                 from; put it on the tape with `let m = tape.watch(&model)` and run the forward pass \
                 on `m` (or use `model.value_and_grad(|m| loss)`)"
            ),
            None => false,
        }
    }

    /// Whether the output depended on `t`, that is, whether `t` was watched and a gradient reached it.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let (a, b) = (tape.watch(&Tensor::from([1.0])), tape.watch(&Tensor::from([2.0])));
    /// let grads = (&a * 3.0).sum().backward();
    /// assert!(grads.contains(&a));
    /// assert!(!grads.contains(&b)); // watched, but the output does not depend on it
    /// ```
    #[must_use]
    pub fn contains<S: Shape, T: Tracking<E>>(&self, t: &Tensor<S, E, T>) -> bool {
        self.entry(t.id()).is_some_and(Option::is_some)
    }

    /// The number of watched tensors that received a gradient.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let (a, b) = (tape.watch(&Tensor::from([1.0])), tape.watch(&Tensor::from([2.0])));
    /// let grads = (&a * &a).sum().backward();
    /// assert_eq!(grads.len(), 1); // `b` did not take part
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.iter().filter(|(_, g)| g.is_some()).count()
    }

    /// Whether no watched tensor received a gradient.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let w = tape.watch(&Tensor::from([1.0]));
    /// // the loss does not depend on the watched `w`
    /// let grads = tape.input(&Tensor::from([3.0])).exp().sum().backward();
    /// assert!(grads.is_empty());
    /// assert_eq!(grads.get(&w).to_vec(), vec![0.0]);
    /// let grads = Tape::new().watch(&Tensor::from([1.0])).sum().backward();
    /// assert!(!grads.is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<E: Element> fmt::Debug for Grads<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grads")
            .field("watched", &self.entries.len())
            .field("with_gradient", &self.len())
            .finish()
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// Runs the tape backward from this scalar and returns the gradients of every watched tensor.
    ///
    /// Only a scalar has an implicit seed (d(loss)/d(loss) = 1); for other shapes use
    /// [`backward_with`](Tensor::backward_with). Calling `backward` on a tensor that is not on a tape,
    /// or on a non-scalar, does not compile, and the error's first line says which.
    ///
    /// # Panics
    /// If `backward` already ran on this tape.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([2.0_f64, -1.0]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// // f = sum(x^3), df/dx = 3x^2
    /// let grads = xt.powi(3).sum().backward();
    /// assert_eq!(grads.get(&xt).to_vec(), vec![12.0, 3.0]);
    /// ```
    ///
    /// ```compile_fail,E0277
    /// use shaped::Tensor;
    /// let loss = Tensor::from([1.0, 2.0]).sum();
    /// let _ = loss.backward(); // `backward` needs a value recorded on a tape, but this tensor is tracked by `NoTape`
    /// ```
    #[must_use = "the gradients are only returned, nothing else is updated"]
    pub fn backward(&self) -> Grads<E>
    where
        T: OnTape<E>,
        S: ScalarShape,
    {
        self.tape()
            .as_tape()
            .run_backward(Buffer::full(1, E::one()))
    }

    /// Runs the tape backward from this tensor, seeded with `grad` (the gradient of some scalar with
    /// respect to this tensor), and returns the gradients of every watched tensor.
    ///
    /// # Panics
    /// If `backward` already ran on this tape.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([1.0, 2.0]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let y = &xt * 3.0;
    /// let grads = y.backward_with(&Tensor::from([1.0, 10.0]));
    /// assert_eq!(grads.get(&xt).to_vec(), vec![3.0, 30.0]);
    /// ```
    #[must_use = "the gradients are only returned, nothing else is updated"]
    pub fn backward_with(&self, grad: &Tensor<S, E>) -> Grads<E>
    where
        T: OnTape<E>,
    {
        crate::ops::same_shape("backward_with", self.typed_shape(), grad.typed_shape());
        self.tape().as_tape().run_backward(Buffer::collect(
            self.numel(),
            grad.as_slice().iter().copied(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Rank1, Rank2, Tape, Tensor};

    #[test]
    fn a_diamond_accumulates_both_paths() {
        // y = a + b with a = 2x and b = x^2, all from one x: dy/dx = 2 + 2x = 8 at x = 3.
        let x = Tensor::from([3.0_f64]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let a = xt.clone() * 2.0;
        let b = xt.clone() * xt.clone();
        let grads = (a + b).sum().backward();
        assert_eq!(grads.get(&xt).to_vec(), vec![8.0]);
    }

    #[test]
    fn a_tensor_used_in_two_ops_is_one_leaf() {
        // f = sum(x * w) + sum(w): df/dw = x + 1.
        let w = Tensor::from([1.0_f64, 2.0]);
        let x = Tensor::from([5.0, 7.0]);
        let tape = Tape::new();
        let wt = tape.watch(&w);
        let f = (&wt * &x).sum() + wt.sum();
        let grads = f.backward();
        assert_eq!(grads.get(&wt).to_vec(), vec![6.0, 8.0]);
        assert_eq!(grads.len(), 1);
        // Watching it again gives the same leaf.
        let tape = Tape::new();
        let (w1, w2) = (tape.watch(&w), tape.watch(&w));
        let y = (&w1 * &w2).sum();
        assert_eq!(tape.leaves(), 1);
        // d(sum(w * w))/dw = 2w
        assert_eq!(y.backward().get(&w1).to_vec(), vec![2.0, 4.0]);
    }

    #[test]
    fn a_clone_off_the_tape_is_a_leaf_of_its_own_and_one_on_it_is_the_same_node() {
        // w2 is a clone of w edited in place. loss = sum(w) + sum(w2^2):
        // d/dw = [1, 1], d/dw2 = 2 w2 = [20, 4].
        let w = Tensor::from([1.0_f64, 2.0]);
        let mut w2 = w.clone();
        w2.as_mut_slice()[0] = 10.0;
        let tape = Tape::new();
        let (wt, w2t) = (tape.watch(&w), tape.watch(&w2));
        assert_eq!(tape.leaves(), 2);
        let grads = (wt.sum() + w2t.powi(2).sum()).backward();
        assert_eq!(grads.get(&wt).to_vec(), vec![1.0, 1.0]);
        assert_eq!(grads.get(&w2t).to_vec(), vec![20.0, 4.0]);
        // A clone made on the tape is the same leaf: d(sum(w * w))/dw = 2w.
        let tape = Tape::new();
        let wt = tape.watch(&w);
        let y = (&wt * &wt.clone()).sum();
        assert_eq!(tape.leaves(), 1);
        assert_eq!(y.backward().get(&wt).to_vec(), vec![2.0, 4.0]);
    }

    #[test]
    fn the_stored_tensor_of_a_watched_leaf_is_that_leaf_where_it_meets_the_tape() {
        // loss = sum(w * w) with one factor the watched handle and one the stored tensor:
        // d/dw = 2w = [2, 4].
        let w = Tensor::from([1.0_f64, 2.0]);
        let tape = Tape::new();
        let wt = tape.watch(&w);
        let grads = (&wt * &w).sum().backward();
        assert_eq!(grads.get(&wt).to_vec(), vec![2.0, 4.0]);
        // The stored tensor repeated over 3 rows by the product's broadcast, on either side:
        // loss = sum over 3 rows of w * w = 3 sum(w^2), d/dw = 6w = [6, 12].
        let tape = Tape::new();
        let wt = tape.watch(&w);
        let grads = (wt.broadcast_to::<Rank2<3, 2>>() * &w).sum().backward();
        assert_eq!(grads.get(&wt).to_vec(), vec![6.0, 12.0]);
        let tape = Tape::new();
        let wt = tape.watch(&w);
        let grads = (&w * wt.broadcast_to::<Rank2<3, 2>>()).sum().backward();
        assert_eq!(grads.get(&wt).to_vec(), vec![6.0, 12.0]);
        // Only a tensor watched on that tape: another one is a constant.
        let c = Tensor::from([5.0, 7.0]);
        let tape = Tape::new();
        let wt = tape.watch(&w);
        let y = (&wt * &c).sum();
        assert_eq!(tape.leaves(), 1);
        assert_eq!(y.backward().get(&wt).to_vec(), vec![5.0, 7.0]);
    }

    #[test]
    fn a_weight_used_ten_times_holds_one_gradient_buffer() {
        // f = sum_k sum(x_k * w) over ten inputs: df/dw = sum_k x_k. Every use accumulates into the
        // same buffer: one leaf, and one gradient buffer of w's size created during backward.
        let w = Tensor::from([1.0_f64, -1.0, 0.5]);
        let tape = Tape::new();
        let wt = tape.watch(&w);
        let mut f = tape.input(&Tensor::from(0.0));
        let mut want = [0.0; 3];
        for k in 0..10 {
            let x = Tensor::from([f64::from(k), 1.0, -f64::from(k)]);
            want.iter_mut().zip(x.as_slice()).for_each(|(s, v)| *s += v);
            f = f + (&wt * &x).sum();
        }
        assert_eq!(tape.leaves(), 1);
        let grads = f.backward();
        // Gradient buffers still held when the closures have all run: the intermediate ones were
        // consumed on the way, the leaf's is the only one left.
        assert_eq!(super::testing::HELD_AFTER_BACKWARD.get(), 1);
        assert_eq!(grads.get(&wt).to_vec(), want.to_vec());
    }

    #[test]
    fn a_watched_tensor_the_loss_did_not_use_reads_as_zeros() {
        let used = Tensor::from([1.0_f32, 2.0]);
        let unused: Tensor<Rank1<3>> = Tensor::full(9.0);
        let tape = Tape::new();
        let (ut, nt) = (tape.watch(&used), tape.watch(&unused));
        let grads = (&ut * &Tensor::from([1.0_f32, 1.0])).sum().backward();
        assert!(!grads.contains(&nt));
        assert!(grads.contains(&ut));
        assert_eq!(grads.get(&nt).to_vec(), vec![0.0; 3]);
    }

    #[test]
    fn a_constant_gets_no_gradient() {
        // `x` meets the tape as a constant: only the watched `w` is a leaf.
        let (w, x) = (Tensor::from([2.0_f64]), Tensor::from([3.0]));
        let tape = Tape::new();
        let wt = tape.watch(&w);
        let y = (&wt * &x).sum();
        assert_eq!(tape.leaves(), 1);
        let grads = y.backward();
        assert_eq!(grads.get(&wt).to_vec(), vec![3.0]);
        assert!(!grads.contains(&x));
    }

    #[test]
    #[should_panic(expected = "not a watched leaf")]
    fn reading_the_gradient_of_an_intermediate_panics() {
        let tape = Tape::new();
        let x = tape.watch(&Tensor::from([1.0_f64]));
        let y = x.exp();
        let grads = y.sum().backward();
        let _ = grads.get(&y);
    }

    #[test]
    fn ops_that_need_no_gradient_are_not_recorded() {
        let tape = Tape::<f64>::new();
        let x = tape.input(&Tensor::from([1.0, 2.0]));
        let y = (x.exp() * 2.0).sum();
        assert_eq!(tape.len(), 0);
        let grads = y.backward();
        assert!(grads.is_empty());
    }

    #[test]
    #[should_panic(expected = "already run")]
    fn backward_twice_panics() {
        let tape = Tape::new();
        let y = tape.watch(&Tensor::from([1.0_f64])).sum();
        let _ = y.backward();
        let _ = y.backward();
    }

    #[test]
    #[should_panic(expected = "two different tapes")]
    fn two_tapes_do_not_mix() {
        let x = Tensor::from([1.0_f64]);
        let (t1, t2) = (Tape::new(), Tape::new());
        let _ = t1.watch(&x) + t2.watch(&x);
    }

    #[test]
    fn a_detached_copy_is_a_constant() {
        // y = sum(x * c) where c = detach(x): dy/dx = c = x, not 2x.
        let x = Tensor::from([3.0_f64, -1.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = (&xt * xt.detach()).sum();
        assert_eq!(y.backward().get(&xt).to_vec(), vec![3.0, -1.0]);
    }

    #[test]
    fn every_path_from_a_watched_tensor_is_differentiated() {
        // The three cases that a tape fed only by its input would lose: a transpose, a broadcast
        // and a penalty, each applied to the parameter before it meets anything else.
        // loss = sum(x W^T + b) + sum(W^2):
        // d/dW = ones^T x + 2W (each W[o, i] sees the column sum of x), d/db = rows of x.
        let x = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let w = Tensor::from([[1.0, -1.0], [0.5, 2.0]]);
        let b = Tensor::from([0.1, 0.2]);
        let tape = Tape::new();
        let (wt, bt) = (tape.watch(&w), tape.watch(&b));
        let y = x.matmul(&wt.transpose()) + bt.broadcast_to::<Rank2<3, 2>>();
        let loss = y.sum() + wt.powi(2).sum();
        let grads = loss.backward();
        assert_eq!(
            grads.get(&wt).to_array(),
            [[9.0 + 2.0, 12.0 - 2.0], [9.0 + 1.0, 12.0 + 4.0]]
        );
        assert_eq!(grads.get(&bt).to_vec(), vec![3.0, 3.0]);
    }

    #[test]
    fn tapes_in_two_threads_are_independent() {
        let run = |scale: f64| {
            std::thread::spawn(move || {
                let w = Tensor::from([1.0, 2.0, 3.0]);
                let mut last = 0.0;
                for _ in 0..200 {
                    let tape = Tape::new();
                    let wt = tape.watch(&w);
                    let loss = (&wt * scale).sum();
                    last = loss.backward().get(&wt).to_vec()[1];
                }
                last
            })
        };
        let (a, b) = (run(2.0), run(5.0));
        assert_eq!(a.join().unwrap(), 2.0);
        assert_eq!(b.join().unwrap(), 5.0);
    }
}
