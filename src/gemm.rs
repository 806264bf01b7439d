//! The one place the crate multiplies matrices: a bounds-checked, strided wrapper around matrixmultiply.
//!
//! Every product in the crate (matmul, inner, linear, bilinear and their backward passes) goes through
//! [`gemm`]. Transposes are expressed as swapped strides ([`Mat::t`]), never as copies.

use crate::Element;

#[cfg(feature = "threading")]
mod pool;
#[cfg(feature = "threading")]
pub use pool::set_threads;
mod small;

/// A read-only strided matrix view into a slice.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mat<'a, E> {
    data: &'a [E],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a, E> Mat<'a, E> {
    /// A `rows x cols` row-major matrix starting at `data[0]`.
    #[inline]
    pub(crate) fn new(data: &'a [E], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }

    /// A `rows x cols` matrix whose element `(i, j)` is `data[i * rs + j * cs]`.
    #[inline]
    pub(crate) fn strided(data: &'a [E], rows: usize, cols: usize, rs: usize, cs: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            rs,
            cs,
        }
    }

    /// The transposed view: no data moves, the strides swap.
    #[inline]
    pub(crate) fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Rows `start .. end` of the view (`start` below its row count).
    #[cfg(feature = "threading")]
    fn row_range(self, start: usize, end: usize) -> Self {
        Self {
            data: &self.data[start * self.rs..],
            rows: end - start,
            ..self
        }
    }

    fn check_extent(&self, what: &str) {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1) * self.rs + (self.cols - 1) * self.cs;
            assert!(
                last < self.data.len(),
                "gemm: {what} reaches element {last} of {}",
                self.data.len()
            );
        }
    }
}

/// A writable strided matrix view into a slice.
#[derive(Debug)]
pub(crate) struct MatMut<'a, E> {
    data: &'a mut [E],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a, E> MatMut<'a, E> {
    /// A `rows x cols` row-major matrix starting at `data[0]`.
    #[inline]
    pub(crate) fn new(data: &'a mut [E], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }

    /// A `rows x cols` matrix whose element `(i, j)` is `data[i * rs + j * cs]`.
    #[inline]
    pub(crate) fn strided(
        data: &'a mut [E],
        rows: usize,
        cols: usize,
        rs: usize,
        cs: usize,
    ) -> Self {
        Self {
            data,
            rows,
            cols,
            rs,
            cs,
        }
    }

    /// The transposed view.
    #[inline]
    #[cfg(test)]
    pub(crate) fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }
}

/// Parameters of at least this many elements are updated in two parts, by the caller and the
/// helper thread of [`pool`] (`in_two_parts`).
#[cfg(feature = "threading")]
const PARALLEL_UPDATE: usize = 1 << 15;

/// Runs the elementwise update `f` on a parameter `p` of shape `dims`, its gradient `g` and the
/// optimizer's `state` for it (slices of `p`'s length): whole, or, for a parameter of at least
/// [`PARALLEL_UPDATE`] elements with the `threading` feature and two threads, in two parts on the
/// caller and the helper thread (when the helper is busy or asleep, both on the caller). The cut
/// ([`cut`]) falls after the rows (along the first axis) that the caller computes when a product
/// writing the weight's gradient, or reading the weight as `W^T`, is cut in two: each thread then
/// updates the part of the weight whose gradient it wrote and which it reads in the next forward
/// pass, in its own core's cache. An elementwise `f` gives the same result however it is cut.
pub(crate) fn in_two_parts<E: Send + Sync, const N: usize>(
    dims: &[usize],
    p: &mut [E],
    g: &[E],
    state: [&mut [E]; N],
    f: impl Fn(&mut [E], &[E], [&mut [E]; N]) + Sync,
) {
    #[cfg(feature = "threading")]
    if p.len() >= PARALLEL_UPDATE && pool::two_threads() {
        let rows = dims.first().copied().unwrap_or(1).max(1);
        let row = p.len() / rows;
        let at = cut(rows) * row;
        if at < p.len() {
            let (p0, p1) = p.split_at_mut(at);
            let (g0, g1) = g.split_at(at);
            let mut states = state.map(|s| {
                let (s0, s1) = s.split_at_mut(at);
                (Some(s0), Some(s1))
            });
            let s0 = states.each_mut().map(|c| c.0.take().expect("cut once"));
            let s1 = states.each_mut().map(|c| c.1.take().expect("cut once"));
            let parts = [
                std::sync::Mutex::new(Some((p0, g0, s0))),
                std::sync::Mutex::new(Some((p1, g1, s1))),
            ];
            let run = |run: core::ops::Range<usize>| {
                for i in run {
                    let part = parts[i]
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .take();
                    if let Some((p, g, s)) = part {
                        f(p, g, s);
                    }
                }
            };
            // An update is short and bound by memory: its times would only add noise to the
            // products' measure of the threads' speeds.
            if !pool::split(2, (0, 0), &run) {
                run(0..2);
            }
            return;
        }
    }
    let _ = dims;
    f(p, g, state);
}

/// `C <- alpha * A B + beta * C`. With `beta == 0`, `C`'s previous contents are ignored (even NaN).
///
/// Panics (a bug in the caller, never a user error: every caller derives the dimensions from shape
/// types) if the dimensions disagree, a view reaches past its slice, or `C`'s strides alias.
#[inline]
#[allow(clippy::needless_pass_by_value)] // `c` is a unique borrow handed over for the call
pub(crate) fn gemm<E: Element>(alpha: E, a: Mat<'_, E>, b: Mat<'_, E>, beta: E, c: MatMut<'_, E>) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(
        b.rows == k && c.rows == m && c.cols == n,
        "gemm: dimensions disagree"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k > 0 {
        a.check_extent("A");
        b.check_extent("B");
    }
    let last = (m - 1) * c.rs + (n - 1) * c.cs;
    assert!(
        last < c.data.len(),
        "gemm: C reaches element {last} of {}",
        c.data.len()
    );
    // No two (i, j) may share an address: one stride must step over a whole run of the other.
    let distinct = match (m, n) {
        (1, 1) => true,
        (1, _) => c.cs > 0,
        (_, 1) => c.rs > 0,
        _ => (c.cs > 0 && c.rs >= n * c.cs) || (c.rs > 0 && c.cs >= m * c.rs),
    };
    assert!(distinct, "gemm: C's strides alias");
    #[cfg(feature = "threading")]
    if m.saturating_mul(n).saturating_mul(k) >= PARALLEL_WORK
        && let Some(pieces) = Pieces::new(a, b, (c.rs, c.cs))
    {
        let c_raw = RawC {
            ptr: c.data.as_mut_ptr(),
            rs: c.rs,
            cs: c.cs,
        };
        let run = |run: core::ops::Range<usize>| {
            let (a, b, at) = pieces.get(run);
            // SAFETY: a run of pieces is the product of a block of A's rows (or B's columns) into
            // the same block of C, starting at element `at`: inside C, which `gemm` checked to lie
            // inside `c.data` with strides that do not alias. `split` hands out each piece once,
            // so no two runs write the same element. `c.data` stays borrowed until `split` has
            // returned, after every run.
            unsafe { matrixmultiply_raw(alpha, a, b, beta, c_raw.add(at)) }
        };
        if pool::split(2, pieces.work(), &run) {
            return;
        }
    }
    gemm_unchecked(alpha, a, b, beta, c);
}

/// `C <- A B` into a gradient buffer: overwritten when `fresh` (a buffer just made for this gradient,
/// whose contents are not zeroed), added into otherwise (`C <- C + A B`, a gradient that other uses of
/// the operand have begun). Every backward product of the crate lands in its gradient through this.
#[inline]
pub(crate) fn gemm_grad<E: Element>(a: Mat<'_, E>, b: Mat<'_, E>, c: MatMut<'_, E>, fresh: bool) {
    let beta = if fresh { E::zero() } else { E::one() };
    gemm(E::one(), a, b, beta, c);
}

/// Products of at least this many multiply-adds (`m k n`, a 128 x 64 x 128 product) are cut into
/// pieces that the calling thread and the helper thread of [`pool`], which spins between the products
/// of a training step instead of sleeping, share. BENCHMARKS.md has the measurements.
#[cfg(feature = "threading")]
const PARALLEL_WORK: usize = 1 << 20;

/// Pieces are cut at multiples of this many rows or columns: a multiple of every kernel tile of
/// matrixmultiply (16 x 16 at most), so that each piece is tiled as the whole is and the result is
/// the same to the last bit (with `alpha != 1`, a tile at the edge of C rounds `alpha A B + beta C`
/// differently from a whole one).
#[cfg(feature = "threading")]
const PIECE_ALIGN: usize = 16;

/// A product cut in two pieces, one per thread, at [`cut`] of the rows of C (with the matching
/// rows of `A`) or of its columns (with the matching columns of `B`). An operand given as a
/// transposed view (stored column by column) is cut along its stored rows: in `X W^T` (a linear
/// layer's forward pass) the columns of C, one per row of `W`; in `dY^T X` (its weight's gradient)
/// the rows of C, again one per row of `W`. So each thread computes the same rows of a weight in
/// both passes, and updates them ([`in_two_parts`]): they stay in its core's cache. Otherwise C is
/// cut across its longer axis, so that the operand each run reads whole, and packs once per run,
/// is the smaller one.
#[cfg(feature = "threading")]
struct Pieces<'a, E> {
    a: Mat<'a, E>,
    b: Mat<'a, E>,
    /// Whether the rows are cut (else the columns).
    rows: bool,
    /// C's stride along the cut axis.
    stride: usize,
    /// Where the second piece starts along the cut axis ([`cut`]).
    cut: usize,
}

/// Where a length of `len` rows (or columns) is cut in two for the two threads: after the caller's
/// share ([`pool::caller_share`], half unless one thread has been measured faster) of its blocks of
/// [`PIECE_ALIGN`]. A product and a parameter's update cut the rows of a weight at the same place,
/// so each thread keeps its rows.
#[cfg(feature = "threading")]
fn cut(len: usize) -> usize {
    cut_at(len, pool::caller_share())
}

/// Where `len` is cut with the caller's share `sixteenths` of its blocks of [`PIECE_ALIGN`]:
/// rounded to the nearest block, a half block toward the middle (at 8 sixteenths, up, as an odd
/// number of blocks has always been cut), and leaving each side at least one block when there are
/// two or more (with one, the whole length is the caller's). Rounding a half block toward the
/// middle moves a weight's rows between the threads only when the share has moved by more than
/// half a block either way.
#[cfg(feature = "threading")]
fn cut_at(len: usize, sixteenths: usize) -> usize {
    let blocks = len.div_ceil(PIECE_ALIGN);
    let half_up = if sixteenths > 8 { 7 } else { 8 };
    let caller = (blocks * sixteenths + half_up) / 16;
    (caller.clamp(1, blocks.saturating_sub(1).max(1)) * PIECE_ALIGN).min(len)
}

#[cfg(feature = "threading")]
impl<'a, E: Element> Pieces<'a, E> {
    /// The two pieces of `A B` into a `C` of strides `rsc`, `csc`; `None` when the axis to cut has
    /// a single block of [`PIECE_ALIGN`].
    fn new(a: Mat<'a, E>, b: Mat<'a, E>, (rsc, csc): (usize, usize)) -> Option<Self> {
        let (m, n) = (a.rows, b.cols);
        let transposed = |v: &Mat<'_, E>| v.rs == 1 && v.cs != 1;
        let rows = match (transposed(&a), transposed(&b)) {
            (true, false) => true,
            (false, true) => false,
            _ => m > n,
        };
        let len = if rows { m } else { n };
        (len > PIECE_ALIGN).then_some(Self {
            a,
            b,
            rows,
            stride: if rows { rsc } else { csc },
            cut: cut(len),
        })
    }

    /// The length of C along the cut axis.
    fn len(&self) -> usize {
        if self.rows { self.a.rows } else { self.b.cols }
    }

    /// The rows (or columns) of C in each piece.
    fn work(&self) -> (usize, usize) {
        (self.cut, self.len() - self.cut)
    }

    /// The pieces `run` (of `0..2`): their block of A and B, and the element of C at which it
    /// starts.
    fn get(&self, run: core::ops::Range<usize>) -> (Mat<'a, E>, Mat<'a, E>, usize) {
        let (a, b) = (self.a, self.b);
        let bound = |piece: usize| [0, self.cut, self.len()][piece];
        let (start, end) = (bound(run.start), bound(run.end));
        let at = start * self.stride;
        if self.rows {
            (a.row_range(start, end), b, at)
        } else {
            // The columns of B are the rows of its transposed view.
            (a, b.t().row_range(start, end).t(), at)
        }
    }
}

/// The product of views whose extents and strides `gemm` has checked.
#[allow(clippy::needless_pass_by_value)] // `c` is a unique borrow handed over for the call
fn gemm_unchecked<E: Element>(alpha: E, a: Mat<'_, E>, b: Mat<'_, E>, beta: E, c: MatMut<'_, E>) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if small::applies(m, k, n, alpha) {
        small::gemm(a, b, beta, c);
    } else {
        matrixmultiply(alpha, a, b, beta, c);
    }
}

/// The product of checked views by matrixmultiply.
#[allow(clippy::needless_pass_by_value)] // `c` is a unique borrow handed over for the call
fn matrixmultiply<E: Element>(alpha: E, a: Mat<'_, E>, b: Mat<'_, E>, beta: E, c: MatMut<'_, E>) {
    let c = RawC {
        ptr: c.data.as_mut_ptr(),
        rs: c.rs,
        cs: c.cs,
    };
    // SAFETY: `gemm` checked that C lies inside `c.data`, which is a unique borrow for the call, and
    // that its strides do not alias.
    unsafe { matrixmultiply_raw(alpha, a, b, beta, c) }
}

/// Where a product writes `C`: its first element and strides. Raw, because the pieces of a product
/// cut along the columns of a row-major `C` interleave in memory.
#[derive(Clone, Copy)]
struct RawC<E> {
    ptr: *mut E,
    rs: usize,
    cs: usize,
}

// SAFETY: a `RawC` crosses to the helper thread only inside `gemm`, which keeps the borrow of C's
// slice until every piece has run, and gives the pieces disjoint elements.
#[cfg(feature = "threading")]
unsafe impl<E: Send> Send for RawC<E> {}
// SAFETY: as for `Send`; the helper only calls the closure of a piece, which writes that piece's
// elements through it.
#[cfg(feature = "threading")]
unsafe impl<E: Send> Sync for RawC<E> {}

#[cfg(feature = "threading")]
impl<E> RawC<E> {
    /// The same strides from element `at` on.
    fn add(self, at: usize) -> Self {
        Self {
            ptr: self.ptr.wrapping_add(at),
            ..self
        }
    }
}

/// `C <- alpha A B + beta C` by matrixmultiply.
///
/// # Safety
/// The `m x n` matrix `C` (`m` rows of `a`, `n` columns of `b`) with `c`'s strides lies inside one
/// live allocation that nothing else reads or writes during the call, and no two of its elements
/// alias. `A` and `B` are views that `gemm` checked.
unsafe fn matrixmultiply_raw<E: Element>(
    alpha: E,
    a: Mat<'_, E>,
    b: Mat<'_, E>,
    beta: E,
    c: RawC<E>,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let stride = |s: usize| isize::try_from(s).expect("gemm: a stride fits isize");
    // SAFETY: A (m x k) and B (k x n) lie inside `a.data` and `b.data`: `gemm` checked the largest
    // offset each view reaches against its slice's length (A and B are not read when k == 0), and a
    // piece from `Pieces` keeps its rows or columns inside the whole. The strides are non-negative and
    // were converted to `isize` with a check. C is this function's contract, and it overlaps neither
    // A nor B, which are shared borrows.
    unsafe {
        E::gemm_raw(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            stride(a.rs),
            stride(a.cs),
            b.data.as_ptr(),
            stride(b.rs),
            stride(b.cs),
            beta,
            c.ptr,
            stride(c.rs),
            stride(c.cs),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn matches_the_definition_with_and_without_transposed_strides() {
        // A = [[1, 2, 3], [4, 5, 6]], B = [[7, 8], [9, 10], [11, 12]]: AB = [[58, 64], [139, 154]].
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [7.0, 8.0, 9.0, 10.0, 11.0, 12.0];
        let mut c = [0.0; 4];
        gemm(
            1.0,
            Mat::new(&a, 2, 3),
            Mat::new(&b, 3, 2),
            0.0,
            MatMut::new(&mut c, 2, 2),
        );
        assert_eq!(c, [58.0, 64.0, 139.0, 154.0]);
        // (AB)^T = B^T A^T, both operands given as transposed views of the same buffers.
        let mut ct = [0.0; 4];
        gemm(
            1.0,
            Mat::new(&b, 3, 2).t(),
            Mat::new(&a, 2, 3).t(),
            0.0,
            MatMut::new(&mut ct, 2, 2),
        );
        assert_eq!(ct, [58.0, 139.0, 64.0, 154.0]);
        assert_eq!(naive(&a, &b, 2, 3, 2), c.to_vec());
    }

    #[test]
    fn beta_accumulates_and_beta_zero_ignores_nan() {
        let a = [1.0, 2.0];
        let b = [3.0, 4.0];
        let mut c = [10.0];
        gemm(
            1.0,
            Mat::new(&a, 1, 2),
            Mat::new(&b, 2, 1),
            1.0,
            MatMut::new(&mut c, 1, 1),
        );
        assert_eq!(c, [21.0]); // 10 + 1*3 + 2*4
        let mut c = [f64::NAN];
        gemm(
            2.0,
            Mat::new(&a, 1, 2),
            Mat::new(&b, 2, 1),
            0.0,
            MatMut::new(&mut c, 1, 1),
        );
        assert_eq!(c, [22.0]);
    }

    #[test]
    #[should_panic(expected = "reaches element")]
    fn a_view_past_its_slice_is_refused() {
        let mut c = [0.0];
        gemm(
            1.0,
            Mat::new(&[1.0, 2.0], 1, 3),
            Mat::new(&[1.0; 3], 3, 1),
            0.0,
            MatMut::new(&mut c, 1, 1),
        );
    }

    #[test]
    #[should_panic(expected = "alias")]
    fn aliasing_output_strides_are_refused() {
        let mut c = [0.0; 4];
        gemm(
            1.0,
            Mat::new(&[1.0; 4], 2, 2),
            Mat::new(&[1.0; 4], 2, 2),
            0.0,
            MatMut::strided(&mut c, 2, 2, 1, 1),
        );
    }

    /// Values as `E`.
    fn v<E: Element>(xs: &[f64]) -> Vec<E> {
        xs.iter().map(|&x| E::from_f64_lossy(x)).collect()
    }

    // The unsafe block above calls `E::gemm_raw`, that is matrixmultiply's `sgemm` for f32 and
    // `dgemm` for f64: each of these tests runs through both.

    fn sizes_zero_and_one<E: Element>() {
        let nan = E::nan();
        // k == 0 with beta == 0: C is overwritten with zeros, NaN included (the backward passes rely
        // on this for fresh gradient buffers); with beta == 0.5, C is scaled.
        let mut c = [nan, E::from_f64_lossy(7.0)];
        gemm(
            E::one(),
            Mat::new(&[], 2, 0),
            Mat::new(&[], 0, 1),
            E::zero(),
            MatMut::new(&mut c, 2, 1),
        );
        assert_eq!(c.to_vec(), v::<E>(&[0.0, 0.0]));
        let mut c = v::<E>(&[1.0, 2.0]);
        let half = E::from_f64_lossy(0.5);
        gemm(
            E::one(),
            Mat::new(&[], 2, 0),
            Mat::new(&[], 0, 1),
            half,
            MatMut::new(&mut c, 2, 1),
        );
        assert_eq!(c, v::<E>(&[0.5, 1.0]));
        // m == 0 and n == 0 touch nothing, whatever the (empty) slices.
        let mut empty: [E; 0] = [];
        let ones = v::<E>(&[1.0; 6]);
        gemm(
            E::one(),
            Mat::new(&[], 0, 3),
            Mat::new(&ones, 3, 2),
            E::zero(),
            MatMut::new(&mut empty, 0, 2),
        );
        gemm(
            E::one(),
            Mat::new(&ones[..3], 1, 3),
            Mat::new(&[], 3, 0),
            E::zero(),
            MatMut::new(&mut empty, 1, 0),
        );
        // 1 x 1 x 1, and 1 x k x 1 (a dot product) with strided operands.
        let mut c = [nan];
        let (three, minus_two) = (v::<E>(&[3.0]), v::<E>(&[-2.0]));
        gemm(
            E::one(),
            Mat::new(&three, 1, 1),
            Mat::new(&minus_two, 1, 1),
            E::zero(),
            MatMut::new(&mut c, 1, 1),
        );
        assert_eq!(c.to_vec(), v::<E>(&[-6.0]));
        let a = v::<E>(&[1.0, 0.0, 2.0, 0.0, 3.0]);
        let b = v::<E>(&[4.0, 9.0, 5.0, 9.0, 6.0]);
        gemm(
            E::one(),
            Mat::strided(&a, 1, 3, 5, 2),
            Mat::strided(&b, 3, 1, 2, 7),
            E::zero(),
            MatMut::new(&mut c, 1, 1),
        );
        assert_eq!(c.to_vec(), v::<E>(&[32.0]));
    }

    #[test]
    fn sizes_zero_and_one_f32_and_f64() {
        sizes_zero_and_one::<f32>();
        sizes_zero_and_one::<f64>();
    }

    fn non_contiguous_strides_on_every_operand<E: Element>() {
        // A is every other element of a 2x6 buffer, B is a column-major 3x2, C is written into a
        // buffer with a row stride of 3 (the padding column is left untouched), then transposed.
        let a_buf = v::<E>(&[
            1.0, -1.0, 2.0, -1.0, 3.0, -1.0, 4.0, -1.0, 5.0, -1.0, 6.0, -1.0,
        ]);
        let b_cm = v::<E>(&[7.0, 9.0, 11.0, 8.0, 10.0, 12.0]);
        let (a, b) = (
            Mat::strided(&a_buf, 2, 3, 6, 2),
            Mat::strided(&b_cm, 3, 2, 1, 3),
        );
        let mut c = v::<E>(&[f64::NAN, f64::NAN, 99.0, f64::NAN, f64::NAN, 99.0]);
        gemm(
            E::one(),
            a,
            b,
            E::zero(),
            MatMut::strided(&mut c, 2, 2, 3, 1),
        );
        assert_eq!(c, v::<E>(&[58.0, 64.0, 99.0, 139.0, 154.0, 99.0]));
        let mut d = v::<E>(&[0.0; 4]);
        gemm(E::one(), a, b, E::zero(), MatMut::new(&mut d, 2, 2).t());
        assert_eq!(d, v::<E>(&[58.0, 139.0, 64.0, 154.0]));
    }

    #[test]
    fn non_contiguous_strides_on_every_operand_f32_and_f64() {
        non_contiguous_strides_on_every_operand::<f32>();
        non_contiguous_strides_on_every_operand::<f64>();
    }

    /// `C = A B` by the definition, with A and B read through `(i, j) -> data[i * rs + j * cs]`.
    fn naive_strided(
        a: (&[f64], usize, usize),
        b: (&[f64], usize, usize),
        (m, k, n): (usize, usize, usize),
    ) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k)
                    .map(|p| a.0[i * a.1 + p * a.2] * b.0[p * b.1 + j * b.2])
                    .sum();
            }
        }
        c
    }

    #[test]
    fn blocked_and_threaded_sizes_with_transposed_and_padded_operands() {
        // Sizes that are not multiples of matrixmultiply's kernel tiles, and one large enough
        // (m k n >= 2^24) to be split over two threads; A transposed, B with a padded row stride, C
        // written transposed. Values are small integers, so f64 and f32 sums are exact.
        for (m, k, n) in [
            (17, 33, 9),
            (1, 40, 3),
            (5, 1, 7),
            (96, 200, 130),
            (130, 1000, 131),
        ] {
            let a_t: Vec<f64> = (0..k * m).map(|v| (v % 7) as f64 - 3.0).collect();
            let pad = n + 3;
            let b: Vec<f64> = (0..k * pad).map(|v| (v % 5) as f64 - 2.0).collect();
            let want = naive_strided((&a_t, 1, m), (&b, pad, 1), (m, k, n));
            let mut c = vec![f64::NAN; m * n];
            gemm(
                1.0,
                Mat::strided(&a_t, m, k, 1, m),
                Mat::strided(&b, k, n, pad, 1),
                0.0,
                MatMut::new(&mut c, n, m).t(),
            );
            let c_t: Vec<f64> = (0..m * n).map(|i| c[(i % n) * m + i / n]).collect();
            assert_eq!(c_t, want, "f64, {m} x {k} x {n}");
            let a32: Vec<f32> = (0..k * m).map(|v| (v % 7) as f32 - 3.0).collect();
            let b32: Vec<f32> = (0..k * pad).map(|v| (v % 5) as f32 - 2.0).collect();
            let mut c32 = vec![f32::NAN; m * n];
            gemm(
                1.0,
                Mat::strided(&a32, m, k, 1, m),
                Mat::strided(&b32, k, n, pad, 1),
                0.0,
                MatMut::new(&mut c32, n, m).t(),
            );
            let c32_t: Vec<f64> = (0..m * n)
                .map(|i| f64::from(c32[(i % n) * m + i / n]))
                .collect();
            assert_eq!(c32_t, want, "f32, {m} x {k} x {n}");
        }
    }

    fn small_products_match_matrixmultiply_bit_for_bit<E: Element>() {
        // Sizes around the register block (4 x 16), operands row-major, transposed and strided,
        // overwriting, accumulating and scaling C; values with many significant bits, so any
        // other order of the sums would show.
        let val = |v: usize, mul: usize| E::from_f64_lossy(((v * mul) % 1013) as f64 / 997.0 - 0.5);
        for (m, k, n) in [
            (1, 1, 1),
            (3, 2, 16),
            (4, 16, 16),
            (5, 17, 17),
            (32, 16, 1),
            (1, 32, 16),
            (16, 32, 2),
            (32, 16, 16),
            (10, 32, 40),
            (7, 256, 9),
        ] {
            assert!(small::applies(m, k, n, E::one()) || !small::fused());
            let a: Vec<E> = (0..m * k).map(|v| val(v, 7919)).collect();
            let b: Vec<E> = (0..k * n).map(|v| val(v, 104_729)).collect();
            let c0: Vec<E> = (0..m * n).map(|v| val(v, 31)).collect();
            // A again with every other element of a padded buffer (neither stride 1).
            let mut a_pad = vec![E::zero(); 2 * m * k];
            for (i, &v) in a.iter().enumerate() {
                a_pad[2 * i] = v;
            }
            let views = [
                (Mat::new(&a, m, k), Mat::new(&b, k, n)),
                (Mat::new(&a, k, m).t(), Mat::new(&b, n, k).t()),
                (Mat::strided(&a_pad, m, k, 2 * k, 2), Mat::new(&b, n, k).t()),
            ];
            for (av, bv) in views {
                for beta in [E::zero(), E::one(), E::from_f64_lossy(0.5)] {
                    let mut want = c0.clone();
                    matrixmultiply(E::one(), av, bv, beta, MatMut::new(&mut want, m, n));
                    let mut got = c0.clone();
                    gemm(E::one(), av, bv, beta, MatMut::new(&mut got, m, n));
                    // Widening to f64 is exact, so equal f64 bits are equal bits.
                    let bits = |v: &[E]| -> Vec<u64> {
                        v.iter().map(|x| x.to_f64().unwrap().to_bits()).collect()
                    };
                    assert!(
                        bits(&got) == bits(&want),
                        "{m} x {k} x {n}, beta {beta}: {got:?} != {want:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn small_products_match_matrixmultiply_bit_for_bit_f32_and_f64() {
        small_products_match_matrixmultiply_bit_for_bit::<f32>();
        small_products_match_matrixmultiply_bit_for_bit::<f64>();
    }

    /// The product `alpha A B + beta C0` computed whole, and cut in two at every row (`rows`) or
    /// column of C: the positions whose two blocks do not give the whole product's bits.
    #[cfg(feature = "threading")]
    fn cuts_that_change_bits<E: Element>(
        (m, k, n): (usize, usize, usize),
        alpha: f64,
        beta: f64,
        transposed: bool,
        rows: bool,
    ) -> Vec<usize> {
        let val = |v: usize, mul: usize| E::from_f64_lossy(((v * mul) % 1013) as f64 / 997.0 - 0.5);
        let a: Vec<E> = (0..m * k).map(|v| val(v, 7919)).collect();
        let b: Vec<E> = (0..k * n).map(|v| val(v, 104_729)).collect();
        let c0: Vec<E> = (0..m * n).map(|v| val(v, 31)).collect();
        // Row-major operands and C, or all three column-major.
        let (av, bv) = if transposed {
            (Mat::new(&a, k, m).t(), Mat::new(&b, n, k).t())
        } else {
            (Mat::new(&a, m, k), Mat::new(&b, k, n))
        };
        let (rsc, csc) = if transposed { (1, m) } else { (n, 1) };
        let (alpha, beta) = (E::from_f64_lossy(alpha), E::from_f64_lossy(beta));
        let run = |a: Mat<'_, E>, b: Mat<'_, E>, c: &mut [E], at: usize| {
            let c = RawC {
                ptr: c.as_mut_ptr(),
                rs: rsc,
                cs: csc,
            };
            // SAFETY: the block of C the views reach starts at element `at` of the m x n matrix C
            // (strides `rsc`, `csc`), which `c` holds whole.
            unsafe { matrixmultiply_raw(alpha, a, b, beta, c.add(at)) }
        };
        let mut whole = c0.clone();
        run(av, bv, &mut whole, 0);
        let bits =
            |v: &[E]| -> Vec<u64> { v.iter().map(|x| x.to_f64().unwrap().to_bits()).collect() };
        let len = if rows { m } else { n };
        (1..len)
            .filter(|&cut| {
                let mut c = c0.clone();
                if rows {
                    let a2 = Mat {
                        data: &av.data[cut * av.rs..],
                        rows: m - cut,
                        ..av
                    };
                    run(Mat { rows: cut, ..av }, bv, &mut c, 0);
                    run(a2, bv, &mut c, cut * rsc);
                } else {
                    let b2 = Mat {
                        data: &bv.data[cut * bv.cs..],
                        cols: n - cut,
                        ..bv
                    };
                    run(av, Mat { cols: cut, ..bv }, &mut c, 0);
                    run(av, b2, &mut c, cut * csc);
                }
                bits(&c) != bits(&whole)
            })
            .collect()
    }

    #[cfg(feature = "threading")]
    fn cuts_keep_the_bits<E: Element>() {
        // 70 rows (more than one block of 64 rows, matrixmultiply's MC), k = 260 (two blocks of
        // 256, its KC), 40 columns; each cut position of each axis, overwriting and accumulating,
        // row-major and column-major. With alpha = 1 (every product of the crate) no cut changes a
        // bit: each element is summed over k in the same blocks and order wherever C is cut. With
        // another alpha, a tile at the edge of C rounds `alpha AB + beta C` in two steps where a
        // whole tile fuses them, so only cuts at multiples of the tile keep the bits.
        let size = (70, 260, 40);
        for transposed in [false, true] {
            for rows in [true, false] {
                for beta in [0.0, 1.0] {
                    let changed = cuts_that_change_bits::<E>(size, 1.0, beta, transposed, rows);
                    assert!(
                        changed.is_empty(),
                        "alpha 1, beta {beta}, transposed {transposed}, rows {rows}: {changed:?}"
                    );
                    let changed = cuts_that_change_bits::<E>(size, 1.5, beta, transposed, rows);
                    assert!(
                        changed.iter().all(|cut| cut % PIECE_ALIGN != 0),
                        "alpha 1.5, beta {beta}, transposed {transposed}, rows {rows}: {changed:?}"
                    );
                }
            }
        }
    }

    #[test]
    #[cfg(feature = "threading")]
    fn products_cut_in_two_equal_the_whole_bit_for_bit_f32_and_f64() {
        cuts_keep_the_bits::<f32>();
        cuts_keep_the_bits::<f64>();
    }

    #[test]
    #[cfg(feature = "threading")]
    fn an_update_in_two_parts_cuts_after_the_caller_s_rows_and_equals_the_whole() {
        // [100, 400]: 40 000 elements (at least PARALLEL_UPDATE); 100 rows are 7 blocks of 16, of
        // which the caller updates the first 2 to 5 (4 while both threads are as fast).
        let dims = [100, 400];
        let g: Vec<f32> = (0..40_000).map(|i| (i % 97) as f32 * 0.01).collect();
        let start: Vec<f32> = (0..40_000).map(|i| (i % 89) as f32 * 0.1).collect();
        // A momentum-like update with one slice of state: every element's state follows it.
        let step = |p: &mut [f32], g: &[f32], [b]: [&mut [f32]; 1]| {
            for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
                *b = 0.9 * *b + g;
                *p -= 0.1 * *b;
            }
        };
        let (mut whole, mut whole_b) = (start.clone(), vec![0.5_f32; 40_000]);
        step(&mut whole, &g, [&mut whole_b]);
        // Each part's first element (found from its gradient slice's address) and length.
        let parts = std::sync::Mutex::new(Vec::new());
        let base = g.as_ptr() as usize;
        let (mut in_parts, mut in_parts_b) = (start, vec![0.5_f32; 40_000]);
        in_two_parts(&dims, &mut in_parts, &g, [&mut in_parts_b], |p, g, [b]| {
            assert_eq!((b.len(), g.len()), (p.len(), p.len()));
            let first = (g.as_ptr() as usize - base) / size_of::<f32>();
            parts.lock().unwrap().push((first, p.len()));
            step(p, g, [b]);
        });
        assert_eq!((in_parts, in_parts_b), (whole, whole_b));
        let mut parts = parts.into_inner().unwrap();
        parts.sort_unstable();
        if pool::two_threads() {
            // The caller's part is the first 2 to 5 blocks of 16 rows (6 400 elements each), the
            // helper's the rest.
            let [(0, caller), (rest, helper)] = parts[..] else {
                panic!("not two parts from the start: {parts:?}");
            };
            assert!([12_800, 19_200, 25_600, 32_000].contains(&caller));
            assert_eq!((rest, helper), (caller, 40_000 - caller));
        } else {
            // Whole on one core (no helper thread).
            assert_eq!(parts, [(0, 40_000)]);
        }
        // Below PARALLEL_UPDATE, whole.
        let lengths = std::sync::Mutex::new(Vec::new());
        in_two_parts(
            &[10, 10],
            &mut [0.0_f32; 100],
            &[1.0; 100],
            [],
            |p, _, []| {
                lengths.lock().unwrap().push(p.len());
            },
        );
        assert_eq!(lengths.into_inner().unwrap(), [100]);
    }

    #[test]
    #[cfg(feature = "threading")]
    fn the_cut_follows_the_caller_s_share_in_whole_blocks() {
        // (rows, the caller's share in sixteenths, where the cut falls)
        let cases = [
            // 128 rows are 8 blocks of 16: half is 4 blocks; 10 sixteenths are 5 blocks; 12 are 6.
            (128, 8, 64),
            (128, 10, 80),
            (128, 12, 96),
            (128, 6, 48),
            (128, 4, 32),
            // 9 and 7 sixteenths of 8 blocks are 4.5 and 3.5 blocks: rounded toward the middle, 4.
            (128, 9, 64),
            (128, 7, 64),
            // 100 rows are 7 blocks (the last of 4 rows): half, 3.5, rounds up to 4 (the caller's
            // part the larger); 9 sixteenths, 3.94, to 4; 7 sixteenths, 3.06, to 3.
            (100, 8, 64),
            (100, 9, 64),
            (100, 7, 48),
            // Two blocks: one each, whatever the share.
            (20, 4, 16),
            (20, 12, 16),
            // One block: all of it for the caller.
            (10, 8, 10),
        ];
        for (rows, share, cut) in cases {
            assert_eq!(
                cut_at(rows, share),
                cut,
                "{rows} rows at {share} sixteenths"
            );
        }
    }

    #[test]
    #[cfg(feature = "threading")]
    fn a_product_split_over_two_threads_equals_the_whole_bit_for_bit() {
        // 300 x 250 x 256 >= 2^24 multiply-adds: cut in two at a multiple of 16 of the 300 rows,
        // into a row-major C and a column-major one; accumulating into C (beta = 1) as a gradient
        // does, with alpha = 1.5.
        let (m, k, n) = (300, 250, 256);
        let a: Vec<f32> = (0..m * k)
            .map(|v| ((v * 7919) % 1000) as f32 / 997.0 - 0.5)
            .collect();
        let b: Vec<f32> = (0..k * n)
            .map(|v| ((v * 104_729) % 1000) as f32 / 991.0 - 0.5)
            .collect();
        let c0: Vec<f32> = (0..m * n).map(|v| (v % 13) as f32 / 13.0).collect();
        let (a, b) = (Mat::new(&a, m, k), Mat::new(&b, k, n));
        let mut whole = c0.clone();
        gemm_unchecked(1.5, a, b, 1.0, MatMut::new(&mut whole, m, n));
        let mut split = c0.clone();
        gemm(1.5, a, b, 1.0, MatMut::new(&mut split, m, n));
        assert!(
            whole
                .iter()
                .zip(&split)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
        // Column-major C: the transpose of the product B^T A^T.
        let mut whole_t = c0.clone();
        gemm_unchecked(1.5, a, b, 1.0, MatMut::new(&mut whole_t, n, m).t());
        let mut split_t = c0;
        gemm(1.5, a, b, 1.0, MatMut::new(&mut split_t, n, m).t());
        assert!(
            whole_t
                .iter()
                .zip(&split_t)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
    }
}
