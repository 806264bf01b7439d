//! Small products without matrixmultiply's packing buffer: a register-blocked loop that the compiler
//! vectorizes, for the products of a small model's layers (a few thousand multiply-adds), where
//! allocating and filling matrixmultiply's aligned packing buffer costs more than the arithmetic.
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
pub(super) fn gemm<E: Element>(a: Mat<'_, E>, b: Mat<'_, E>, beta: E, c: MatMut<'_, E>) {
    let (m, n) = (a.rows, b.cols);
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
fn blocks<E: Element>(a: Mat<'_, E>, b: Mat<'_, E>, beta: E, c: MatMut<'_, E>) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    debug_assert!(k > 0 && k <= MAX_K && b.rows == k && c.rows == m && c.cols == n);
    // B copied contiguous, `NR` columns at a time (`[k][NR]` per group), padded with zeros: the
    // padding's products are computed and never stored. The scratch buffer comes from the thread's
    // buffer pool, so a step allocates none.
    let groups = n.div_ceil(NR);
    let mut bp = Buffer::<E>::uninit(groups * k * NR);
    let (bp, _) = bp.as_chunks_mut::<NR>();
    for (g, group) in bp.chunks_exact_mut(k).enumerate() {
        let (j0, w) = (g * NR, NR.min(n - g * NR));
        if b.cs == 1 && w == NR {
            for (p, row) in group.iter_mut().enumerate() {
                *row = *b.data[p * b.rs + j0..]
                    .first_chunk()
                    .expect("gemm checked B's extent");
            }
        } else {
            // Element by element into the buffer itself: building a row on the stack and copying
            // it as a whole would stall on store forwarding.
            group.fill([E::zero(); NR]);
            for j in 0..w {
                let at = (j0 + j) * b.cs;
                if b.rs == 1 {
                    for (row, &v) in group.iter_mut().zip(&b.data[at..at + k]) {
                        row[j] = v;
                    }
                } else {
                    for (p, row) in group.iter_mut().enumerate() {
                        row[j] = b.data[at + p * b.rs];
                    }
                }
            }
        }
    }
    for i0 in (0..m).step_by(MR) {
        // Rows past the end repeat the last one: computed, never stored.
        let h = MR.min(m - i0);
        let last = i0 + h - 1;
        let (r0, r1) = (i0 * a.rs, (i0 + 1).min(last) * a.rs);
        let (r2, r3) = ((i0 + 2).min(last) * a.rs, last * a.rs);
        for (g, group) in bp.chunks_exact(k).enumerate() {
            let acc = if a.cs == 1 {
                let (a0, a1) = (&a.data[r0..][..k], &a.data[r1..][..k]);
                let (a2, a3) = (&a.data[r2..][..k], &a.data[r3..][..k]);
                block(group, |p| [a0[p], a1[p], a2[p], a3[p]])
            } else {
                let d = a.data;
                block(group, |p| {
                    let at = p * a.cs;
                    [d[r0 + at], d[r1 + at], d[r2 + at], d[r3 + at]]
                })
            };
            let (j0, w) = (g * NR, NR.min(n - g * NR));
            for (i, acc_row) in acc[..h].iter().enumerate() {
                let base = (i0 + i) * c.rs + j0 * c.cs;
                if c.cs == 1 && w == NR {
                    let dst = c.data[base..]
                        .first_chunk_mut::<NR>()
                        .expect("gemm checked C's extent");
                    store(acc_row, dst, beta);
                } else {
                    for (j, &v) in acc_row[..w].iter().enumerate() {
                        store(
                            &[v],
                            core::slice::from_mut(&mut c.data[base + j * c.cs]),
                            beta,
                        );
                    }
                }
            }
        }
    }
}

/// `c <- acc` (`beta == 0`, `c` not read) or `c <- fma(1, acc, beta c)`, as matrixmultiply's kernel.
#[inline(always)]
fn store<E: Element>(acc: &[E], c: &mut [E], beta: E) {
    if beta == E::zero() {
        c.copy_from_slice(acc);
    } else {
        for (slot, &v) in c.iter_mut().zip(acc) {
            *slot = E::one().mul_add(v, *slot * beta);
        }
    }
}

/// One `MR x NR` block of `A B`: the sum over `p` of `a(p)[i] bp[p][j]`, one fused multiply-add per
/// term, in the order of `p`.
#[inline(always)]
fn block<E: Element>(bp: &[[E; NR]], a: impl Fn(usize) -> [E; MR]) -> [[E; NR]; MR] {
    let mut acc = [[E::zero(); NR]; MR];
    for (p, b) in bp.iter().enumerate() {
        for (acc_row, x) in acc.iter_mut().zip(a(p)) {
            for (s, &y) in acc_row.iter_mut().zip(b) {
                *s = x.mul_add(y, *s);
            }
        }
    }
    acc
}
