//! Reverse-mode autodiff: the [`Tape`], the [`NoTape`] marker, and the typed gradient read-out
//! [`Grads`].
//!
//! Whether a tensor records is part of its type: `Tensor<S, E>` (that is, `Tensor<S, E, NoTape>`)
//! records nothing and costs nothing, `Tensor<S, E, Tape<E>>` records every op applied to it. Model code
//! is written once, generic over `T: Tracking<E>`, and runs both ways.
//!
//! ```
//! use shaped::{Tape, Tensor};
//!
//! let w = Tensor::from([1.0, 2.0, 3.0]);
//! let x = Tensor::from([4.0, 5.0, 6.0]);
//! let tape = Tape::new();
//! // Put the input on the tape; `w` is not on it, so it is a leaf and its gradient is kept.
//! let loss = (tape.input(&x) * &w).sum();
//! assert_eq!(loss.item(), 32.0);
//! let grads = loss.backward();
//! // d(sum(x * w))/dw = x
//! assert_eq!(grads.get(&w).to_vec(), vec![4.0, 5.0, 6.0]);
//! // the input asked for no gradient
//! assert!(!grads.contains(&x));
//! ```
//!
//! # How recording works
//! - A tensor is *on a tape* when its type is `Tensor<S, E, Tape<E>>`. An op with at least one operand on
//!   a tape records a backward closure on it and returns a tensor on the same tape.
//! - An operand that is *not* on the tape (a model's weight, say) is a **leaf**: the tape keeps its
//!   gradient, which [`Grads::get`] returns after [`backward`](crate::Tensor::backward).
//! - [`Tape::input`] puts a tensor on the tape without a gradient of its own (a batch of data);
//!   [`Tape::watch`] puts it on the tape and keeps its gradient.
//! - An op whose operands are all off the tape is not recorded: its result is a constant. So a
//!   parameter that an op is applied to *on its own* before it meets the tape (`w.transpose()`,
//!   `w.powi(2).sum()` for a penalty) must be put on the tape first, with
//!   [`w.on_tape_of(&x)`](crate::Tensor::on_tape_of) or `tape.watch(&w)`; otherwise the gradient
//!   reaches the temporary, not `w`. The layers in [`nn`](crate::nn) do this for their own parameters.
//! - Gradients accumulate: a tensor used twice receives the sum of both contributions, and a diamond
//!   (one value feeding two branches that meet again) is handled by running the closures in reverse
//!   recording order, which is a topological order.
//! - A tape lives in one thread (it is not `Send`). Each thread makes its own; nothing is shared between
//!   tapes, and no lock is taken.
//! - `backward` consumes what was recorded: running it twice on the same tape panics.
//!
//! # Cost
//! One boxed closure and one node entry per recorded op, gradients stored in a `Vec` indexed by node (no
//! hash map), and the recorded closures dropped as they run. Inference (`NoTape`) records nothing: the
//! closure-building code is not even called.

use core::cell::RefCell;
use core::fmt;
use std::rc::Rc;
use std::sync::Arc;

use crate::buffer::Buffer;

use crate::{Element, Rank0, Shape, Tensor};

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
    }

    /// How an operand enters an op, as far as the tape is concerned.
    #[derive(Clone, Copy)]
    pub enum Input<'a, E: Element> {
        /// Not on any tape: a leaf, identified by its tensor id.
        Untracked { id: u64, numel: usize },
        /// On a tape, with the node of its value (`None`: no gradient flows to it).
        Tracked(&'a Tape<E>),
    }

    /// The recording half of [`Tracking`](super::Tracking), hidden from users.
    pub trait Record<E: Element>: Clone + 'static {
        /// Whether this type records (false for `NoTape`).
        const RECORDS: bool;

        /// This operand (a tensor with this id and element count) as an op input.
        fn input(&self, id: u64, numel: usize) -> Input<'_, E>;

        /// Records an op with the given inputs whose output has `out_numel` elements. `make` receives
        /// the node of each input (`None`: no gradient needed there) and builds the backward closure; it
        /// is called only if some input needs a gradient. Returns the output's tracking.
        fn record<const N: usize>(
            &self,
            inputs: [Input<'_, E>; N],
            out_numel: usize,
            make: impl FnOnce([Option<NodeId>; N]) -> BackwardFn<E>,
        ) -> Self;

        /// The tracking of a tensor that shares its value's node (reshape: same elements, same order).
        fn alias(&self) -> Self {
            self.clone()
        }

        /// The tracking of a leaf with this id and size on this tape (nothing for `NoTape`).
        fn leaf(&self, id: u64, numel: usize) -> Self;
    }
}
use internal::{BackwardFn, GradStore, Input, NodeId, Record};

/// Whether a tensor records its ops: [`NoTape`] (inference) or [`Tape<E>`] (training).
///
/// This is the third type parameter of [`Tensor`]. Write model code generic over it so that training
/// and inference share it:
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
/// let x = Tensor::from([1.0, 2.0]);
/// let tape = Tape::new();
/// let grads = double(tape.watch(&x)).sum().backward();
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
/// | `Tape<E>` | `NoTape` | `Tape<E>` |
/// | `Tape<E>` | `Tape<E>` | `Tape<E>` (the same tape; two different tapes panic) |
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

/// The tracking of a tensor that records nothing: inference, data, parameters.
///
/// `Tensor<S, E>` means `Tensor<S, E, NoTape>`. Ops on such tensors compute their result and nothing
/// else.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTape;

impl<E: Element> Record<E> for NoTape {
    const RECORDS: bool = false;

    #[inline]
    fn input(&self, id: u64, numel: usize) -> Input<'_, E> {
        Input::Untracked { id, numel }
    }

    #[inline]
    fn record<const N: usize>(
        &self,
        _inputs: [Input<'_, E>; N],
        _out_numel: usize,
        _make: impl FnOnce([Option<NodeId>; N]) -> BackwardFn<E>,
    ) -> Self {
        NoTape
    }

    #[inline]
    fn leaf(&self, _id: u64, _numel: usize) -> Self {
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
    /// Leaves: (tensor id, node).
    leaves: Vec<(u64, NodeId)>,
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
            grads: Vec::new(),
            spent: false,
        }
    }

    fn clear(&mut self) {
        self.sizes.clear();
        self.ops.clear();
        self.leaves.clear();
        self.grads.clear();
        self.spent = false;
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
/// Make one per training step (it is cheap), put the input on it with [`Tape::input`], run the forward
/// pass, and call [`backward`](crate::Tensor::backward) on the scalar loss. A `Tape` value is a handle:
/// cloning it refers to the same recording.
///
/// ```
/// use shaped::{Tape, Tensor};
///
/// let x = Tensor::from([1.0, 2.0, 3.0]);
/// let tape = Tape::new();
/// let xt = tape.watch(&x);
/// // y = sum(x * x), dy/dx = 2x; `xt` is used twice and both uses accumulate.
/// let y = (xt.clone() * xt).sum();
/// let grads = y.backward();
/// assert_eq!(grads.get(&x).to_vec(), vec![2.0, 4.0, 6.0]);
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

    /// Puts `t` on this tape without a gradient of its own: ops on the result are recorded, and any
    /// tensor they meet that is not on the tape (a parameter) gets a gradient. Shares `t`'s data.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([[1.0, 2.0]]);
    /// let w = Tensor::from([[3.0], [4.0]]);
    /// let tape = Tape::new();
    /// let grads = tape.input(&x).matmul(&w).sum().backward();
    /// // d(x w)/dw = x^T
    /// assert_eq!(grads.get(&w).to_vec(), vec![1.0, 2.0]);
    /// assert!(!grads.contains(&x));
    /// ```
    #[must_use]
    pub fn input<S: Shape>(&self, t: &Tensor<S, E>) -> Tensor<S, E, Tape<E>> {
        Tensor::with_id(
            Arc::clone(t.data()),
            t.id(),
            Tape {
                state: Rc::clone(&self.state),
                node: None,
            },
        )
    }

    /// Puts `t` on this tape and keeps its gradient: after `backward`, `grads.get(&t)` is
    /// d(output)/d(t). Shares `t`'s data.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([3.0_f64]);
    /// let tape = Tape::new();
    /// let grads = tape.watch(&x).exp().sum().backward();
    /// // d(e^x)/dx = e^x
    /// assert_eq!(grads.get(&x).to_vec(), vec![3.0_f64.exp()]);
    /// ```
    #[must_use]
    pub fn watch<S: Shape>(&self, t: &Tensor<S, E>) -> Tensor<S, E, Tape<E>> {
        Tensor::with_id(Arc::clone(t.data()), t.id(), self.leaf(t.id(), S::NUMEL))
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
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn same_tape(&self, other: &Self) {
        assert!(
            Rc::ptr_eq(&self.state, &other.state),
            "cannot combine tensors recorded on two different tapes"
        );
    }

    /// Runs the recorded closures backward from `node`, seeded with `seed`.
    pub(crate) fn run_backward(&self, seed: Buffer<E>) -> Grads<E> {
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
        // One gradient per leaf: a leaf used by several ops has several nodes, summed here.
        leaves.sort_unstable_by_key(|&(id, _)| id);
        let mut entries = Vec::with_capacity(leaves.len());
        for group in leaves.chunk_by(|a, b| a.0 == b.0) {
            let mut sum: Option<Buffer<E>> = None;
            for &(_, node) in group {
                if let Some(g) = store.grads[node as usize].take() {
                    match &mut sum {
                        None => sum = Some(g),
                        Some(acc) => acc.iter_mut().zip(g.iter()).for_each(|(a, &b)| *a += b),
                    }
                }
            }
            if let Some(g) = sum {
                entries.push((group[0].0, Arc::new(g)));
            }
        }
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
            let state = Rc::clone(&self.state);
            E::with_pool(|p| keep_spare(&mut p.tapes, state));
        }
    }
}

impl<E: Element> TapeState<E> {
    fn new_node(&mut self, numel: usize) -> NodeId {
        let id = NodeId::try_from(self.sizes.len()).expect("a tape holds at most 2^32 values");
        self.sizes.push(numel);
        id
    }
}

impl<E: Element> Record<E> for Tape<E> {
    const RECORDS: bool = true;

    #[inline]
    fn input(&self, _id: u64, _numel: usize) -> Input<'_, E> {
        Input::Tracked(self)
    }

    fn record<const N: usize>(
        &self,
        inputs: [Input<'_, E>; N],
        out_numel: usize,
        make: impl FnOnce([Option<NodeId>; N]) -> BackwardFn<E>,
    ) -> Self {
        let mut state = self.state.borrow_mut();
        let mut nodes = [None; N];
        for (slot, input) in nodes.iter_mut().zip(inputs) {
            *slot = match input {
                Input::Tracked(t) => {
                    self.same_tape(t);
                    t.node
                }
                Input::Untracked { id, numel } => {
                    let node = state.new_node(numel);
                    state.leaves.push((id, node));
                    Some(node)
                }
            };
        }
        if nodes.iter().all(Option::is_none) {
            return Self {
                state: Rc::clone(&self.state),
                node: None,
            };
        }
        let out = state.new_node(out_numel);
        drop(state);
        let run = make(nodes);
        self.state.borrow_mut().ops.push(Recorded { out, run });
        Self {
            state: Rc::clone(&self.state),
            node: Some(out),
        }
    }

    fn leaf(&self, id: u64, numel: usize) -> Self {
        let mut state = self.state.borrow_mut();
        let node = state.new_node(numel);
        state.leaves.push((id, node));
        Self {
            state: Rc::clone(&self.state),
            node: Some(node),
        }
    }
}
impl<E: Element> Tracking<E> for Tape<E> {}

/// The gradients a backward pass computed, one per leaf, read with their own types.
///
/// [`Grads::get`] takes the tensor whose gradient you want and returns a tensor of the same shape and
/// element type: the types guarantee the shape, so nothing is checked at run time. A tensor the loss
/// did not depend on reads as zeros.
///
/// ```
/// use shaped::{Rank2, Tape, Tensor};
///
/// let a: Tensor<Rank2<3, 4>, f64> = Tensor::full(2.0);
/// let unused: Tensor<Rank2<3, 4>, f64> = Tensor::full(1.0);
/// let tape = Tape::new();
/// let x: Tensor<Rank2<3, 4>, f64> = Tensor::ones();
/// let grads = (tape.input(&x) * &a).sum().backward();
/// let ga: Tensor<Rank2<3, 4>, f64> = grads.get(&a);
/// assert_eq!(ga, Tensor::ones());
/// assert_eq!(grads.get(&unused), Tensor::zeros());
/// ```
#[derive(Clone)]
pub struct Grads<E: Element> {
    /// Sorted by tensor id.
    entries: Vec<(u64, Arc<Buffer<E>>)>,
}

impl<E: Element> Grads<E> {
    fn find<S: Shape, T: Tracking<E>>(&self, t: &Tensor<S, E, T>) -> Option<&Arc<Buffer<E>>> {
        let id = t.id();
        self.entries
            .binary_search_by_key(&id, |&(k, _)| k)
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// The gradient of the last backward pass's output with respect to `t`, zeros if it did not depend
    /// on `t`. Shares the gradient's buffer (no copy).
    #[must_use]
    pub fn get<S: Shape, T: Tracking<E>>(&self, t: &Tensor<S, E, T>) -> Tensor<S, E> {
        match self.find(t) {
            Some(g) => Tensor::from_parts(Arc::clone(g), NoTape),
            None => Tensor::zeros(),
        }
    }

    /// Whether a gradient was computed for `t` (false when the output did not depend on it).
    #[must_use]
    pub fn contains<S: Shape, T: Tracking<E>>(&self, t: &Tensor<S, E, T>) -> bool {
        self.find(t).is_some()
    }

    /// The number of leaves that received a gradient.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no leaf received a gradient.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<E: Element> fmt::Debug for Grads<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grads")
            .field("leaves", &self.entries.len())
            .finish()
    }
}

impl<E: Element> Tensor<Rank0, E, Tape<E>> {
    /// Runs the tape backward from this scalar and returns the gradients of every leaf.
    ///
    /// Only a scalar has an implicit seed (d(loss)/d(loss) = 1); for other shapes use
    /// [`backward_with`](Tensor::backward_with). Calling `backward` on a tensor that is not on a tape
    /// does not compile.
    ///
    /// Panics if `backward` already ran on this tape.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([2.0_f64, -1.0]);
    /// let tape = Tape::new();
    /// // f = sum(x^3), df/dx = 3x^2
    /// let grads = tape.watch(&x).powi(3).sum().backward();
    /// assert_eq!(grads.get(&x).to_vec(), vec![12.0, 3.0]);
    /// ```
    #[must_use = "the gradients are only returned, nothing else is updated"]
    pub fn backward(&self) -> Grads<E> {
        self.tape().run_backward(Buffer::full(1, E::one()))
    }
}

impl<S: Shape, E: Element> Tensor<S, E, Tape<E>> {
    /// Runs the tape backward from this tensor, seeded with `grad` (the gradient of some scalar with
    /// respect to this tensor), and returns the gradients of every leaf.
    ///
    /// Panics if `backward` already ran on this tape.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([1.0, 2.0]);
    /// let tape = Tape::new();
    /// let y = tape.watch(&x) * 3.0;
    /// let grads = y.backward_with(&Tensor::from([1.0, 10.0]));
    /// assert_eq!(grads.get(&x).to_vec(), vec![3.0, 30.0]);
    /// ```
    #[must_use = "the gradients are only returned, nothing else is updated"]
    pub fn backward_with(&self, grad: &Tensor<S, E>) -> Grads<E> {
        self.tape()
            .run_backward(Buffer::collect(S::NUMEL, grad.as_slice().iter().copied()))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Rank1, Tape, Tensor};

    #[test]
    fn a_diamond_accumulates_both_paths() {
        // y = a + b with a = 2x and b = x^2, all from one x: dy/dx = 2 + 2x = 8 at x = 3.
        let x = Tensor::from([3.0_f64]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let a = xt.clone() * 2.0;
        let b = xt.clone() * xt;
        let grads = (a + b).sum().backward();
        assert_eq!(grads.get(&x).to_vec(), vec![8.0]);
    }

    #[test]
    fn a_leaf_used_in_two_ops_sums_its_gradients() {
        // f = sum(x * w) + sum(w): df/dw = x + 1.
        let w = Tensor::from([1.0_f64, 2.0]);
        let x = Tensor::from([5.0, 7.0]);
        let tape = Tape::new();
        let xi = tape.input(&x);
        let f = (xi.clone() * &w).sum() + (xi * 0.0 + &w).sum();
        let grads = f.backward();
        assert_eq!(grads.get(&w).to_vec(), vec![6.0, 8.0]);
        assert_eq!(grads.len(), 1);
    }

    #[test]
    fn a_parameter_the_loss_did_not_use_reads_as_zeros() {
        let used = Tensor::from([1.0_f32, 2.0]);
        let unused: Tensor<Rank1<3>> = Tensor::full(9.0);
        let tape = Tape::new();
        let grads = (tape.input(&Tensor::from([1.0_f32, 1.0])) * &used)
            .sum()
            .backward();
        assert!(!grads.contains(&unused));
        assert_eq!(grads.get(&unused).to_vec(), vec![0.0; 3]);
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
        let x = Tensor::from([1.0_f64]);
        let tape = Tape::new();
        let y = tape.watch(&x).sum();
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
    fn a_detached_copy_is_a_new_variable() {
        // y = sum(x * c) where c = detach(x): dy/dx = c = x, not 2x.
        let x = Tensor::from([3.0_f64, -1.0]);
        let tape = Tape::new();
        let y = (tape.watch(&x) * x.detach()).sum();
        assert_eq!(y.backward().get(&x).to_vec(), vec![3.0, -1.0]);
    }

    #[test]
    fn the_same_tensor_on_and_off_the_tape_is_one_variable() {
        // y = sum(x * x) with one factor watched and the other a leaf: dy/dx = 2x.
        let x = Tensor::from([3.0_f64, -1.0]);
        let tape = Tape::new();
        let y = (tape.watch(&x) * &x).sum();
        assert_eq!(y.backward().get(&x).to_vec(), vec![6.0, -2.0]);
    }

    #[test]
    fn a_clone_of_a_leaf_is_the_same_leaf() {
        let w = Tensor::from([2.0_f64]);
        let w2 = w.clone();
        let tape = Tape::new();
        let grads = (tape.input(&Tensor::from([3.0])) * &w2).sum().backward();
        assert_eq!(grads.get(&w).to_vec(), vec![3.0]);
    }

    #[test]
    fn tapes_in_two_threads_are_independent() {
        let run = |scale: f64| {
            std::thread::spawn(move || {
                let w = Tensor::from([1.0, 2.0, 3.0]);
                let mut last = 0.0;
                for _ in 0..200 {
                    let tape = Tape::new();
                    let loss = (tape.watch(&w) * scale).sum();
                    last = loss.backward().get(&w).to_vec()[1];
                }
                last
            })
        };
        let (a, b) = (run(2.0), run(5.0));
        assert_eq!(a.join().unwrap(), 2.0);
        assert_eq!(b.join().unwrap(), 5.0);
    }
}
