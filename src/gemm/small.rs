//! Small products without matrixmultiply's packing buffer: a register-blocked loop that the compiler
//! vectorizes, for the products of a small model's layers (a few thousand multiply-adds), where
//! allocating and filling matrixmultiply's aligned packing buffer costs more than the arithmetic.
//!
//! Operands are read where they lie whenever their layout allows it: A in any layout (rows side by
//! side, columns, or element by element through its strides), B in place when it is row-major with
//! exactly [`NR`] columns (a gradient, a square weight) or a single contiguous column (a matrix times
//! a vector). Otherwise `NR` columns of B at a time are copied contiguous into a scratch buffer from
//! the thread's buffer pool. Blocks of `MR` rows, then 2 and 1 for the rest, so that a product with
//! one or two rows computes no padding rows.
//!
//! Each element of `C` is the same chain of fused multiply-adds as in matrixmultiply's FMA kernels
//! (AVX-512 and AVX2): `acc = fma(a[i, p], b[p, j], acc)` for `p` in order from `acc = 0`, then
//! `c = acc` (`beta = 0`) or `c = fma(1, acc, beta c)`. So for `alpha = 1` and `k` within one of its
//! depth blocks (256) the result is the same to the last bit as matrixmultiply's, which is why this
//! path is taken only on CPUs where matrixmultiply's kernel fuses too (x86-64 with AVX2 and FMA).

// The helpers are `inline(always)` so that they land inside the target-feature versions of `gemm`,
// where they are vectorized; a call would run baseline code.
#![allow(clippy::inline_always)]

use multiversion::multiversion;

use super::{Mat, MatMut};
use crate::Element;
use crate::buffer::Buffer;

/// Rows of `C` per register block.
const MR: usize = 4;
/// Columns of `C` per register block (one AVX-512 register of `f32`).
const NR: usize = 16;
/// The deepest product taken here: matrixmultiply's depth block, within which it sums in one chain.
const MAX_K: usize = 256;
/// The largest product (`m k n` multiply-adds) taken here. Above it, matrixmultiply's larger kernel
/// and cache blocking win despite the packing (BENCHMARKS.md, "Small products").
const MAX_WORK: usize = 1 << 14;

/// Whether `gemm` takes the small path for these sizes on this CPU.
#[inline]
pub(super) fn applies<E: Element>(m: usize, k: usize, n: usize, alpha: E) -> bool {
    k > 0
        && k <= MAX_K
        && alpha == E::one()
        && m.saturating_mul(k).saturating_mul(n) <= MAX_WORK
        && fused()
}

/// Whether matrixmultiply's kernel on this CPU uses fused multiply-adds, as this one does.
#[inline]
pub(super) fn fused() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `C <- A B + beta C` (`beta == 0`: `C` is not read). The caller has checked the views' extents
/// and that [`applies`] holds.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
))]
pub(super) fn gemm<E: Element>(a: Mat<'_, E>, b: Mat<'_, E>, beta: E, mut c: MatMut<'_, E>) {
    let (m, n) = (a.rows, b.cols);
    if n == 1 && b.rs == 1 {
        // One contiguous column of B (a matrix times a vector): `MR` rows of A at a time, one
        // scalar chain each, with nothing copied.
        let (col, _) = b.data[..a.cols].as_chunks::<1>();
        row_blocks(a, col, beta, &mut c, (0, 1));
        return;
    }
    if n < NR && m > n {
        // Few columns: compute `C^T = B^T A^T` instead, whose rows are longer and fill the vector
        // lanes better. Each element is the same chain of multiply-adds.
        let c = MatMut {
            rows: n,
            cols: m,
            rs: c.cs,
            cs: c.rs,
            data: c.data,
        };
        return blocks(b.t(), a.t(), beta, c);
    }
    blocks(a, b, beta, c);
}

/// The product by blocks of `MR x NR`.
#[inline(always)]
#[allow(clippy::needless_pass_by_value)] // `c` is a unique borrow handed over for the call
fn blocks<E: Element>(a: Mat<'_, E>, b: Mat<'_, E>, beta: E, mut c: MatMut<'_, E>) {
    let (k, n) = (a.cols, b.cols);
    debug_assert!(k > 0 && k <= MAX_K && b.rows == k && c.rows == a.rows && c.cols == n);
    if b.cs == 1 && b.rs == NR && n == NR {
        // B is already `[k][NR]`: read in place.
        let (rows, _) = b.data.as_chunks::<NR>();
        row_blocks(a, &rows[..k], beta, &mut c, (0, NR));
        return;
    }
    // `NR` columns of B at a time copied contiguous (`[k][NR]`) into a scratch buffer from the
    // thread's buffer pool, padded with zeros whose products are computed and never stored.
    let mut scratch = Buffer::<E>::uninit(k * NR);
    let (group, _) = scratch.as_chunks_mut::<NR>();
    for j0 in (0..n).step_by(NR) {
        let w = NR.min(n - j0);
        pack(b, j0, w, group);
        row_blocks(a, group, beta, &mut c, (j0, w));
    }
}

/// Copies columns `j0 .. j0 + w` of B into `group` (`[k][NR]`), padding with zeros.
#[inline(always)]
fn pack<E: Element>(b: Mat<'_, E>, j0: usize, w: usize, group: &mut [[E; NR]]) {
    if b.cs == 1 && w == NR {
        for (p, row) in group.iter_mut().enumerate() {
            *row = *b.data[p * b.rs + j0..]
                .first_chunk()
                .expect("gemm checked B's extent");
        }
        return;
    }
    if b.rs == 1 && w == NR {
        // B = W^T with W's rows contiguous: four rows of W at a time, each down a column of the
        // group.
        for j in (0..NR).step_by(4) {
            let w_row = |d: usize| &b.data[(j0 + j + d) * b.cs..][..b.rows];
            let quads = w_row(0)
                .iter()
                .zip(w_row(1))
                .zip(w_row(2).iter().zip(w_row(3)));
            for (row, ((&x0, &x1), (&x2, &x3))) in group.iter_mut().zip(quads) {
                row[j..j + 4].copy_from_slice(&[x0, x1, x2, x3]);
            }
        }
        return;
    }
    if w < NR {
        group.fill([E::zero(); NR]);
    }
    // Element by element into the buffer itself: building a row on the stack and copying it as a
    // whole would stall on store forwarding.
    for j in 0..w {
        let at = (j0 + j) * b.cs;
        if b.rs == 1 {
            for (row, &v) in group.iter_mut().zip(&b.data[at..at + b.rows]) {
                row[j] = v;
            }
        } else {
            for (p, row) in group.iter_mut().enumerate() {
                row[j] = b.data[at + p * b.rs];
            }
        }
    }
}

/// Columns `j0 .. j0 + w` (`w <= N`) of `C <- A B + beta C`, with those columns of B given as `bp`
/// (`[k][N]`): blocks of `MR` rows of A, then 2 and 1 for the rest.
#[inline(always)]
fn row_blocks<E: Element, const N: usize>(
    a: Mat<'_, E>,
    bp: &[[E; N]],
    beta: E,
    c: &mut MatMut<'_, E>,
    cols: (usize, usize),
) {
    let m = a.rows;
    let mut i0 = 0;
    while m - i0 >= MR {
        row_block::<E, MR, N>(a, i0, bp, beta, c, cols);
        i0 += MR;
    }
    if m - i0 >= 2 {
        row_block::<E, 2, N>(a, i0, bp, beta, c, cols);
        i0 += 2;
    }
    if m > i0 {
        row_block::<E, 1, N>(a, i0, bp, beta, c, cols);
    }
}

/// Rows `i0 .. i0 + R` (`R <= MR`) of [`row_blocks`].
#[inline(always)]
fn row_block<E: Element, const R: usize, const N: usize>(
    a: Mat<'_, E>,
    i0: usize,
    bp: &[[E; N]],
    beta: E,
    c: &mut MatMut<'_, E>,
    (j0, w): (usize, usize),
) {
    let k = a.cols;
    let acc: [[E; N]; R] = if a.cs == 1 {
        // Rows of A walked side by side; rows past `R` repeat the last one and are not used.
        let row = |r: usize| &a.data[(i0 + r.min(R - 1)) * a.rs..][..k];
        let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
        let a = r0
            .iter()
            .zip(r1)
            .zip(r2.iter().zip(r3))
            .map(|((&x0, &x1), (&x2, &x3))| {
                let x = [x0, x1, x2, x3];
                core::array::from_fn(|r| x[r])
            });
        block(bp, a)
    } else if a.rs == 1 && a.cs >= R {
        // Columns of A: `R` contiguous elements each.
        let a = a.data[i0..]
            .chunks(a.cs)
            .map(|col| *col.first_chunk().expect("gemm checked A's extent"));
        block(bp, a)
    } else {
        let d = &a.data[i0 * a.rs..];
        block(
            bp,
            (0..k).map(|p| core::array::from_fn(|r| d[r * a.rs + p * a.cs])),
        )
    };
    for (i, acc_row) in acc.iter().enumerate() {
        let base = (i0 + i) * c.rs + j0 * c.cs;
        if c.cs == 1 && w == N {
            let dst = c.data[base..]
                .first_chunk_mut::<N>()
                .expect("gemm checked C's extent");
            *dst = if beta == E::zero() {
                *acc_row
            } else {
                core::array::from_fn(|j| with_beta(acc_row[j], dst[j], beta))
            };
        } else {
            for (j, &v) in acc_row[..w].iter().enumerate() {
                let slot = &mut c.data[base + j * c.cs];
                *slot = if beta == E::zero() {
                    v
                } else {
                    with_beta(v, *slot, beta)
                };
            }
        }
    }
}

/// `fma(1, acc, beta c)`, as matrixmultiply's kernel stores `C` when `beta != 0`; for `beta == 1`
/// that is `c + acc`, rounded once.
#[inline(always)]
fn with_beta<E: Element>(acc: E, c: E, beta: E) -> E {
    if beta == E::one() {
        c + acc
    } else {
        E::one().mul_add(acc, c * beta)
    }
}

/// One `R x N` block of `A B`, with `a` yielding `A[i0 .. i0 + R, p]` for each `p`: the sum over
/// `p` of `a[i] bp[p][j]`, one fused multiply-add per term, in the order of `p`.
#[inline(always)]
fn block<E: Element, const R: usize, const N: usize>(
    bp: &[[E; N]],
    a: impl Iterator<Item = [E; R]>,
) -> [[E; N]; R] {
    let mut acc = [[E::zero(); N]; R];
    for (b, x) in bp.iter().zip(a) {
        for (acc_row, x) in acc.iter_mut().zip(x) {
            for (s, &y) in acc_row.iter_mut().zip(b) {
                *s = x.mul_add(y, *s);
            }
        }
    }
    acc
}
