//! Differentiable ops of your own, recorded on the tape like the crate's.
//!
//! Two ways, both at the cost of a built-in op (one result buffer, one boxed backward closure, no
//! copy of any input):
//! - an elementwise op from `f` and its derivative: [`Tensor::unary`];
//! - any op of one to eight typed inputs: [`CustomOp`], with the forward computed by you and a
//!   backward closure that adds into the inputs' gradients.
//!
//! ```
//! use shaped::{CustomOp, Tape, Tensor, gradcheck};
//!
//! /// `sum(a * b)`, a dot product written as a custom op of two inputs.
//! fn dot<T: shaped::Tracking<f64>>(
//!     a: &Tensor<shaped::Rank1<3>, f64, T>,
//!     b: &Tensor<shaped::Rank1<3>, f64, T>,
//! ) -> Tensor<shaped::Rank0, f64, T> {
//!     let value = a.as_slice().iter().zip(b.as_slice()).map(|(x, y)| x * y).sum::<f64>();
//!     // The backward closure needs the input values: detached copies share the data.
//!     let (av, bv) = (a.detach(), b.detach());
//!     CustomOp::new(Tensor::from(value)).input(a).input(b).backward(move |dy, grads| {
//!         // d(a . b)/da = b, d(a . b)/db = a
//!         if let Some(da) = grads.add(0) {
//!             da.iter_mut().zip(bv.as_slice()).for_each(|(d, &y)| *d += dy[0] * y);
//!         }
//!         if let Some(db) = grads.add(1) {
//!             db.iter_mut().zip(av.as_slice()).for_each(|(d, &x)| *d += dy[0] * x);
//!         }
//!     })
//! }
//!
//! let a = Tensor::from([1.0, 2.0, 3.0]);
//! let b = Tensor::from([4.0, -5.0, 6.0]);
//! assert_eq!(dot(&a, &b).item(), 12.0);
//! let tape = Tape::new();
//! let (at, bt) = (tape.watch(&a), tape.watch(&b));
//! let grads = dot(&at, &bt).backward();
//! assert_eq!(grads.get(&at).to_vec(), b.to_vec());
//! assert_eq!(grads.get(&bt).to_vec(), a.to_vec());
//! gradcheck(|(a, b)| dot(&a, &b), (&a, &b)).unwrap();
//! ```

use std::sync::Arc;

use crate::ops::Merged;
use crate::tape::internal::{GradStore, Input, NodeId};
use crate::{Element, Merge, NoTape, Shape, Tensor, Tracking};

/// The most inputs a [`CustomOp`] takes.
///
/// ```
/// assert_eq!(shaped::custom::MAX_INPUTS, 8);
/// ```
pub const MAX_INPUTS: usize = 8;

/// A differentiable op of your own: its output value, its inputs, and a backward closure.
///
/// Build it with [`CustomOp::new`] from the output you computed, add the inputs in order with
/// [`input`](CustomOp::input) (input `i` is the `i`-th added), and finish with
/// [`backward`](CustomOp::backward), which records the closure on the inputs' tape and returns the
/// output on it. The output is on a tape when any input is; when none is, nothing is recorded and
/// the closure is dropped unused, so the same function serves inference.
///
/// The closure gets the output's gradient `dy` (one value per output element, row-major) and an
/// [`OpGrads`] to add each input's gradient into. It must be `'static`: capture input values as
/// [`detach`](Tensor::detach)ed copies, which share the data.
///
/// See the [module docs](crate::custom) for an op of two inputs.
///
/// ```
/// use shaped::{CustomOp, Rank1, Tape, Tensor, Tracking};
/// // y = x^3 with dy/dx = 3 x^2, on a tape or off it.
/// fn cube<T: Tracking<f64>>(x: &Tensor<Rank1<2>, f64, T>) -> Tensor<Rank1<2>, f64, T> {
///     let xv = x.detach();
///     CustomOp::new(xv.map(|v| v * v * v)).input(x).backward(move |dy, grads| {
///         if let Some(dx) = grads.add(0) {
///             for ((d, &g), &v) in dx.iter_mut().zip(dy).zip(xv.as_slice()) {
///                 *d += g * 3.0 * v * v;
///             }
///         }
///     })
/// }
/// let x = Tensor::from([1.0, 2.0]);
/// assert_eq!(cube(&x).to_vec(), vec![1.0, 8.0]);
/// let tape = Tape::new();
/// let xt = tape.watch(&x);
/// assert_eq!(cube(&xt).sum().backward().get(&xt).to_vec(), vec![3.0, 12.0]);
/// ```
#[must_use = "an op is recorded only by `backward`"]
pub struct CustomOp<'a, S: Shape, E: Element, T: Tracking<E>> {
    value: Tensor<S, E>,
    inputs: [Input<'a, E>; MAX_INPUTS],
    count: usize,
    tape: T,
}

impl<S: Shape, E: Element> CustomOp<'static, S, E, NoTape> {
    /// Starts an op whose output is `value`, computed by you from the inputs' values.
    ///
    /// ```
    /// use shaped::{CustomOp, Tensor};
    /// // Off any tape, the op is its value: the backward closure is dropped unused.
    /// let x = Tensor::from([1.0, 2.0]);
    /// let y = CustomOp::new(x.map(|v| v * v)).input(&x).backward(|_, _| unreachable!());
    /// assert_eq!(y.to_vec(), vec![1.0, 4.0]);
    /// ```
    pub fn new(value: Tensor<S, E>) -> Self {
        Self {
            value,
            inputs: [Input::Absent; MAX_INPUTS],
            count: 0,
            tape: NoTape,
        }
    }
}

impl<'a, S: Shape, E: Element, T: Tracking<E>> CustomOp<'a, S, E, T> {
    /// Adds the next input. Its gradient is input number `i` of [`OpGrads`], counting from 0 in
    /// the order of the calls.
    ///
    /// # Panics
    /// If the op already has [`MAX_INPUTS`] inputs, or if two inputs are on different tapes.
    ///
    /// ```
    /// use shaped::{CustomOp, Tape, Tensor};
    /// let tape = Tape::new();
    /// let (a, b) = (tape.watch(&Tensor::from([2.0])), tape.watch(&Tensor::from([3.0])));
    /// // y = a b: input 0 is `a`, input 1 is `b`.
    /// let (av, bv) = (a.detach(), b.detach());
    /// let y = CustomOp::new(Tensor::from([6.0])).input(&a).input(&b).backward(move |dy, grads| {
    ///     grads.add(0).unwrap()[0] += dy[0] * bv.as_slice()[0];
    ///     grads.add(1).unwrap()[0] += dy[0] * av.as_slice()[0];
    /// });
    /// let grads = y.sum().backward();
    /// assert_eq!((grads.get(&a).to_vec(), grads.get(&b).to_vec()), (vec![3.0], vec![2.0]));
    /// ```
    pub fn input<'b, S2: Shape, T2: Tracking<E>>(
        self,
        x: &'b Tensor<S2, E, T2>,
    ) -> CustomOp<'b, S, E, Merged<E, T, T2>>
    where
        'a: 'b,
        T: Merge<E, T2>,
    {
        assert!(
            self.count < MAX_INPUTS,
            "a custom op takes at most {MAX_INPUTS} inputs"
        );
        let mut inputs: [Input<'b, E>; MAX_INPUTS] = self.inputs;
        inputs[self.count] = x.input();
        CustomOp {
            value: self.value,
            inputs,
            count: self.count + 1,
            tape: self.tape.merge(x.tape()),
        }
    }

    /// Records the op with its backward closure and returns its output, on the inputs' tape.
    ///
    /// `f(dy, grads)` runs during [`backward`](Tensor::backward), once, if some input needs a
    /// gradient; it adds `d(loss)/d(input i)` into [`grads.add(i)`](OpGrads::add).
    ///
    /// ```
    /// use shaped::{CustomOp, Tape, Tensor};
    /// // y = 3 x, elementwise.
    /// let tape = Tape::new();
    /// let x = tape.watch(&Tensor::from([1.0, -1.0]));
    /// let y = CustomOp::new(x.detach() * 3.0).input(&x).backward(|dy, grads| {
    ///     if let Some(dx) = grads.add(0) {
    ///         dx.iter_mut().zip(dy).for_each(|(d, &g)| *d += 3.0 * g);
    ///     }
    /// });
    /// assert_eq!(y.to_vec(), vec![3.0, -3.0]);
    /// let grads = (&y * &y).sum().backward(); // d(9 x^2)/dx = 18 x
    /// assert_eq!(grads.get(&x).to_vec(), vec![18.0, -18.0]);
    /// ```
    pub fn backward(self, f: impl FnOnce(&[E], &mut OpGrads<'_, E>) + 'static) -> Tensor<S, E, T> {
        let count = self.count;
        let shape = self.value.typed_shape();
        let data = Arc::clone(self.value.data());
        let tape = self.tape.record(self.inputs, data.len(), move |nodes| {
            Box::new(move |dy, store| {
                f(
                    dy,
                    &mut OpGrads {
                        nodes,
                        count,
                        store,
                    },
                );
            })
        });
        Tensor::from_parts(data, shape, tape)
    }
}

/// The inputs' gradients, handed to a [`CustomOp`]'s backward closure.
///
/// ```
/// use shaped::{CustomOp, OpGrads, Tape, Tensor};
/// // A backward closure may be a named function: y = x + 1, dy/dx = 1.
/// fn pass_through(dy: &[f64], grads: &mut OpGrads<'_, f64>) {
///     if let Some(dx) = grads.add(0) {
///         dx.iter_mut().zip(dy).for_each(|(d, &g)| *d += g);
///     }
/// }
/// let tape = Tape::new();
/// let x = tape.watch(&Tensor::from([1.0, 2.0]));
/// let y = CustomOp::new(x.detach() + 1.0).input(&x).backward(pass_through);
/// let grads = (&y * 2.0).sum().backward();
/// assert_eq!(grads.get(&x).to_vec(), vec![2.0, 2.0]);
/// ```
pub struct OpGrads<'s, E: Element> {
    nodes: [Option<NodeId>; MAX_INPUTS],
    count: usize,
    store: &'s mut GradStore<E>,
}

impl<E: Element> OpGrads<'_, E> {
    fn node(&self, i: usize) -> Option<NodeId> {
        assert!(
            i < self.count,
            "input {i} does not exist: this op has {} inputs",
            self.count
        );
        self.nodes[i]
    }

    /// Whether input `i` needs a gradient (it is on a tape and something upstream is watched).
    ///
    /// # Panics
    /// If the op has no input `i`.
    ///
    /// ```
    /// use shaped::{CustomOp, Tape, Tensor};
    /// let tape = Tape::new();
    /// let w = tape.watch(&Tensor::from([1.0]));
    /// let data = tape.input(&Tensor::from([5.0])); // on the tape, but a constant
    /// let y = CustomOp::new(Tensor::from([5.0])).input(&w).input(&data).backward(|dy, grads| {
    ///     assert!(grads.wants(0) && !grads.wants(1));
    ///     grads.add(0).unwrap()[0] += dy[0] * 5.0;
    /// });
    /// assert_eq!(y.sum().backward().get(&w).to_vec(), vec![5.0]);
    /// ```
    #[must_use]
    pub fn wants(&self, i: usize) -> bool {
        self.node(i).is_some()
    }

    /// The gradient of input `i`, to add into (it holds zeros the first time, and earlier
    /// contributions when the input is used by several ops); `None` when input `i` needs no
    /// gradient. It has one element per element of the input, row-major.
    ///
    /// # Panics
    /// If the op has no input `i`.
    ///
    /// ```
    /// use shaped::{CustomOp, Tape, Tensor};
    /// // loss = sum(2 x) + sum(x^2): x feeds the custom op and `powi`, and the gradients add.
    /// let tape = Tape::new();
    /// let x = tape.watch(&Tensor::from([1.0, 3.0]));
    /// let double = CustomOp::new(x.detach() * 2.0).input(&x).backward(|dy, grads| {
    ///     let dx = grads.add(0).unwrap();
    ///     dx.iter_mut().zip(dy).for_each(|(d, &g)| *d += 2.0 * g);
    /// });
    /// let grads = (double.sum() + x.powi(2).sum()).backward();
    /// assert_eq!(grads.get(&x).to_vec(), vec![4.0, 8.0]); // 2 + 2x
    /// ```
    pub fn add(&mut self, i: usize) -> Option<&mut [E]> {
        let node = self.node(i)?;
        Some(self.store.acc(node))
    }

    /// Like [`add`](OpGrads::add), but a buffer created by this call is not zeroed first: the `bool`
    /// is `true` then, and every element must be written (not added to), as a matrix product with
    /// `beta = 0` does. Saves a pass over memory for ops that overwrite.
    ///
    /// # Panics
    /// If the op has no input `i`.
    ///
    /// ```
    /// use shaped::{CustomOp, Tape, Tensor};
    /// // y = 2 x, used twice: the first backward closure to run writes, the second adds.
    /// let tape = Tape::new();
    /// let x = tape.watch(&Tensor::from([1.0, 2.0]));
    /// let double = || {
    ///     CustomOp::new(x.detach() * 2.0).input(&x).backward(|dy, grads| {
    ///         if let Some((dx, fresh)) = grads.add_or_write(0) {
    ///             for (d, &g) in dx.iter_mut().zip(dy) {
    ///                 *d = if fresh { 2.0 * g } else { *d + 2.0 * g };
    ///             }
    ///         }
    ///     })
    /// };
    /// let grads = (double().sum() + double().sum()).backward();
    /// assert_eq!(grads.get(&x).to_vec(), vec![4.0, 4.0]);
    /// ```
    pub fn add_or_write(&mut self, i: usize) -> Option<(&mut [E], bool)> {
        let node = self.node(i)?;
        Some(self.store.acc_fresh(node))
    }
}

#[cfg(test)]
mod tests {
    use crate::{CustomOp, Rank1, Rank2, Tape, Tensor, Tracking, gradcheck};

    /// `y = A x` for a fixed `[2, 3]` matrix `A` and `x: [3]`, through the custom-op builder, with
    /// the derivative `dx = A^T dy`.
    fn apply<T: Tracking<f64>>(
        a: &Tensor<Rank2<2, 3>, f64, T>,
        x: &Tensor<Rank1<3>, f64, T>,
    ) -> Tensor<Rank1<2>, f64, T> {
        let value = a.detach().matmul(&x.detach());
        let (av, xv) = (a.detach(), x.detach());
        CustomOp::new(value)
            .input(a)
            .input(x)
            .backward(move |dy, grads| {
                if let Some((da, fresh)) = grads.add_or_write(0) {
                    // dA[i][j] = dy[i] x[j]
                    for i in 0..2 {
                        for j in 0..3 {
                            let v = dy[i] * xv.as_slice()[j];
                            da[i * 3 + j] = if fresh { v } else { da[i * 3 + j] + v };
                        }
                    }
                }
                if let Some(dx) = grads.add(1) {
                    // dx[j] = sum_i A[i][j] dy[i]
                    for (j, d) in dx.iter_mut().enumerate() {
                        *d += (0..2)
                            .map(|i| av.as_slice()[i * 3 + j] * dy[i])
                            .sum::<f64>();
                    }
                }
            })
    }

    #[test]
    fn a_custom_op_matches_the_built_in_one_and_its_gradients() {
        let a = Tensor::from([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]]);
        let x = Tensor::from([0.5, -1.0, 2.0]);
        assert_eq!(apply(&a, &x).to_vec(), a.matmul(&x).to_vec());
        gradcheck(
            |(a, x)| (apply(&a, &x) * Tensor::from([1.0, 3.0])).sum(),
            (&a, &x),
        )
        .unwrap();
        // Used twice (x enters two ops): the contributions accumulate in one buffer.
        // f = sum(A x) + sum(A x) = 2 sum(A x): df/dx = 2 A^T ones = 2 * column sums of A.
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let at = tape.input(&a);
        let f = apply(&at, &xt).sum() + apply(&at, &xt).sum();
        assert_eq!(f.backward().get(&xt).to_vec(), vec![0.0, 5.0, 10.0]);
    }

    #[test]
    fn without_a_tape_nothing_is_recorded() {
        let a = Tensor::from([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
        let y = apply(&a, &Tensor::from([7.0, 8.0, 9.0]));
        assert_eq!(y.to_vec(), vec![7.0, 8.0]);
        let tape = Tape::<f64>::new();
        let _ = apply(&tape.input(&a), &tape.input(&Tensor::from([1.0, 1.0, 1.0])));
        assert_eq!(tape.len(), 0);
    }

    #[test]
    #[should_panic(expected = "input 2 does not exist: this op has 1 inputs")]
    fn asking_for_an_input_that_does_not_exist_panics() {
        let x = Tensor::from([1.0_f64]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = CustomOp::new(x.clone()).input(&xt).backward(|_, grads| {
            let _ = grads.add(2);
        });
        let _ = y.sum().backward();
    }
}
