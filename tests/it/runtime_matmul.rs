//! `matmul` with run-time dimensions: every row of the table of tuple shapes gives bit for bit the
//! values and gradients of the same product on static shapes, whichever operand holds the run-time
//! dimensions; the gradients match central differences; and a batched operand times an unbatched
//! one computes every matrix of the batch, for any run-time sizes.

use proptest::prelude::*;
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Const, Rank1, Rank2, Rank3, Rank4, Shape, StaticShape, Tape, Tensor, gradcheck};

fn random<S: StaticShape>(seed: u64) -> Tensor<S, f64> {
    Tensor::uniform(&mut StdRng::seed_from_u64(seed), -2.0, 2.0)
}

fn random_with<S: Shape>(shape: S, seed: u64) -> Tensor<S, f64> {
    Tensor::uniform_with(shape, &mut StdRng::seed_from_u64(seed), -2.0, 2.0)
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The product's shape and bits, and the bits of the gradients of `sum((a x b)^2)` with respect to
/// both operands.
macro_rules! product {
    ($a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        let y = a.matmul(&b);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let g = at.matmul(&bt).powi(2).sum().backward();
        (
            y.shape().as_ref().to_vec(),
            bits(y.as_slice()),
            bits(g.get(&at).as_slice()),
            bits(g.get(&bt).as_slice()),
        )
    }};
}

/// `A x B` on static shapes against the same data written as the tuples `ta` and `tb` (with
/// run-time dimensions), as all-`Const` tuples, and with one operand static and the other a tuple:
/// the same shape, values and gradients, bit for bit. Then the gradients of the run-time product
/// against central differences.
macro_rules! same_as_static {
    ($seed:expr, $A:ty, $B:ty, $ta:expr, $tb:expr) => {{
        let a: Tensor<$A, f64> = random($seed);
        let b: Tensor<$B, f64> = random($seed + 1);
        let ad = Tensor::from_vec_with($ta, a.to_vec()).unwrap();
        let bd = Tensor::from_vec_with($tb, b.to_vec()).unwrap();
        let want = product!(a.clone(), b.clone());
        let what = concat!(stringify!($A), " x ", stringify!($B));
        assert_eq!(
            product!(ad.clone(), bd.clone()),
            want,
            "{what}: run-time tuples"
        );
        assert_eq!(
            product!(a.clone().into_dims(), b.clone().into_dims()),
            want,
            "{what}: tuples of Const"
        );
        assert_eq!(
            product!(ad.clone(), b.clone()),
            want,
            "{what}: run-time left, static right"
        );
        assert_eq!(
            product!(a.clone(), bd.clone()),
            want,
            "{what}: static left, run-time right"
        );
        // The output has as many elements as the static one: every matrix of a batch is computed.
        assert_eq!(
            want.1.len(),
            <<$A as shaped::MatMulShape<$B>>::Output as StaticShape>::NUMEL
        );
        gradcheck(|(a, b)| a.matmul(&b).powi(2).sum(), (&ad, &bd)).unwrap();
    }};
}

#[test]
fn unbatched_rows_give_the_static_bits() {
    same_as_static!(10, Rank1<3>, Rank1<3>, (3_usize,), (Const::<3>,));
    same_as_static!(20, Rank1<3>, Rank2<3, 4>, (3_usize,), (3_usize, Const::<4>));
    same_as_static!(30, Rank2<2, 3>, Rank1<3>, (2_usize, Const::<3>), (3_usize,));
    same_as_static!(40, Rank2<2, 3>, Rank2<3, 4>, (2_usize, 3_usize), (Const::<3>, 4_usize));
}

#[test]
fn a_batch_times_an_unbatched_operand_gives_the_static_bits() {
    // [B, M, K] x [K, N], [B, M, K] x [K], [M, K] x [B, K, N], [K] x [B, K, N]
    same_as_static!(
        50,
        Rank3<2, 5, 8>,
        Rank2<8, 3>,
        (2_usize, 5_usize, Const::<8>),
        (Const::<8>, Const::<3>)
    );
    same_as_static!(
        60,
        Rank3<2, 5, 8>,
        Rank1<8>,
        (2_usize, Const::<5>, Const::<8>),
        (8_usize,)
    );
    same_as_static!(
        70,
        Rank2<3, 5>,
        Rank3<2, 5, 4>,
        (3_usize, Const::<5>),
        (2_usize, Const::<5>, Const::<4>)
    );
    same_as_static!(
        80,
        Rank1<5>,
        Rank3<2, 5, 4>,
        (5_usize,),
        (2_usize, 5_usize, Const::<4>)
    );
}

#[test]
fn two_batch_axes_times_an_unbatched_operand_give_the_static_bits() {
    // [B, C, M, K] x [K, N], [B, C, M, K] x [K], [M, K] x [B, C, K, N], [K] x [B, C, K, N]
    same_as_static!(
        90,
        Rank4<2, 3, 2, 4>,
        Rank2<4, 3>,
        (2_usize, Const::<3>, 2_usize, Const::<4>),
        (Const::<4>, Const::<3>)
    );
    same_as_static!(
        100,
        Rank4<2, 3, 2, 4>,
        Rank1<4>,
        (2_usize, 3_usize, Const::<2>, Const::<4>),
        (4_usize,)
    );
    same_as_static!(
        110,
        Rank2<2, 4>,
        Rank4<2, 3, 4, 3>,
        (Const::<2>, 4_usize),
        (Const::<2>, 3_usize, Const::<4>, Const::<3>)
    );
    same_as_static!(
        120,
        Rank1<4>,
        Rank4<3, 2, 4, 3>,
        (4_usize,),
        (3_usize, 2_usize, 4_usize, Const::<3>)
    );
}

#[test]
fn batches_on_both_sides_give_the_static_bits() {
    // [B, M, K] x [B, K, N], [B, C, M, K] x [B, C, K, N], [B, C, M, K] x [C, K, N],
    // [C, M, K] x [B, C, K, N]
    same_as_static!(
        130,
        Rank3<3, 2, 4>,
        Rank3<3, 4, 5>,
        (3_usize, Const::<2>, 4_usize),
        (3_usize, 4_usize, Const::<5>)
    );
    same_as_static!(
        140,
        Rank4<2, 3, 2, 4>,
        Rank4<2, 3, 4, 5>,
        (2_usize, 3_usize, Const::<2>, Const::<4>),
        (Const::<2>, 3_usize, Const::<4>, Const::<5>)
    );
    same_as_static!(
        150,
        Rank4<2, 3, 2, 4>,
        Rank3<3, 4, 5>,
        (2_usize, 3_usize, Const::<2>, Const::<4>),
        (3_usize, Const::<4>, Const::<5>)
    );
    same_as_static!(
        160,
        Rank3<3, 2, 4>,
        Rank4<2, 3, 4, 5>,
        (3_usize, 2_usize, Const::<4>),
        (2_usize, Const::<3>, Const::<4>, Const::<5>)
    );
}

#[test]
fn a_shared_weight_gets_the_gradient_of_every_matrix_of_a_run_time_batch() {
    // y = x W with x: (2, 5, 8) of ones and W: (8, 3) of ones: every entry of y is 8. For
    // f = sum(y), df/dW[k, n] = sum over the batch and the rows of x[b, m, k] = 2 * 5 = 10.
    let x: Tensor<(usize, usize, Const<8>), f64> = Tensor::ones_with((2, 5, Const));
    let w: Tensor<Rank2<8, 3>, f64> = Tensor::ones();
    let tape = Tape::new();
    let wt = tape.watch(&w);
    let y = x.matmul(&wt);
    assert_eq!(y.shape(), [2, 5, 3]);
    assert_eq!(y.to_vec(), vec![8.0; 30]);
    let g = y.sum().backward();
    assert_eq!(g.get(&wt).to_vec(), vec![10.0; 24]);
    // An empty batch: no product, and the shared weight's gradient is zeros.
    let e: Tensor<(usize, Const<5>, Const<8>), f64> = Tensor::ones_with((0, Const, Const));
    let tape = Tape::new();
    let wt = tape.watch(&w);
    let y = e.matmul(&wt);
    assert_eq!(y.shape(), [0, 5, 3]);
    assert_eq!(y.sum().backward().get(&wt).to_vec(), vec![0.0; 24]);
}

/// The products of `count` matrix pairs `[m, k] x [k, n]`, matrix by matrix; an operand that is not
/// batched serves every product.
fn per_matrix(
    a: &[f64],
    b: &[f64],
    count: usize,
    batched: (bool, bool),
    mkn: [usize; 3],
) -> Vec<f64> {
    let [m, k, n] = mkn;
    let mut c = Vec::with_capacity(count * m * n);
    for i in 0..count {
        let a = &a[if batched.0 { i * m * k } else { 0 }..];
        let b = &b[if batched.1 { i * k * n } else { 0 }..];
        for r in 0..m {
            for col in 0..n {
                c.push((0..k).map(|t| a[r * k + t] * b[t * n + col]).sum());
            }
        }
    }
    c
}

fn close(got: &[f64], want: &[f64]) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() <= 1e-12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// `[B, M, K] x [K, N]` and `[B, M, K] x [K]` with run-time sizes: every matrix of the batch,
    /// and gradients against central differences.
    #[test]
    fn a_run_time_batch_times_a_matrix_or_a_vector(
        bs in 1_usize..4, m in 1_usize..4, k in 1_usize..4, n in 1_usize..4, seed in 0_u64..1000,
    ) {
        let a = random_with((bs, m, k), seed);
        let w = random_with((k, n), seed + 1);
        let v = random_with((k,), seed + 2);
        let y = a.matmul(&w);
        prop_assert_eq!(y.shape(), [bs, m, n]);
        prop_assert!(close(y.as_slice(), &per_matrix(a.as_slice(), w.as_slice(), bs, (true, false), [m, k, n])));
        let y = a.matmul(&v);
        prop_assert_eq!(y.shape(), [bs, m]);
        prop_assert!(close(y.as_slice(), &per_matrix(a.as_slice(), v.as_slice(), bs, (true, false), [m, k, 1])));
        prop_assert!(gradcheck(|(a, w)| a.matmul(&w).powi(2).sum(), (&a, &w)).is_ok());
        prop_assert!(gradcheck(|(a, v)| a.matmul(&v).powi(2).sum(), (&a, &v)).is_ok());
    }

    /// `[M, K] x [B, K, N]` and `[K] x [B, K, N]` with run-time sizes.
    #[test]
    fn a_matrix_or_a_vector_times_a_run_time_batch(
        bs in 1_usize..4, m in 1_usize..4, k in 1_usize..4, n in 1_usize..4, seed in 0_u64..1000,
    ) {
        let l = random_with((m, k), seed);
        let u = random_with((k,), seed + 1);
        let b = random_with((bs, k, n), seed + 2);
        let y = l.matmul(&b);
        prop_assert_eq!(y.shape(), [bs, m, n]);
        prop_assert!(close(y.as_slice(), &per_matrix(l.as_slice(), b.as_slice(), bs, (false, true), [m, k, n])));
        let y = u.matmul(&b);
        prop_assert_eq!(y.shape(), [bs, n]);
        prop_assert!(close(y.as_slice(), &per_matrix(u.as_slice(), b.as_slice(), bs, (false, true), [1, k, n])));
        prop_assert!(gradcheck(|(l, b)| l.matmul(&b).powi(2).sum(), (&l, &b)).is_ok());
        prop_assert!(gradcheck(|(u, b)| u.matmul(&b).powi(2).sum(), (&u, &b)).is_ok());
    }

    /// Two run-time batch axes against an unbatched operand, on either side.
    #[test]
    fn two_run_time_batch_axes_and_an_unbatched_operand(
        bs in 1_usize..3, cs in 1_usize..3, m in 1_usize..3, k in 1_usize..4, n in 1_usize..3,
        seed in 0_u64..1000,
    ) {
        let a = random_with((bs, cs, m, k), seed);
        let w = random_with((k, n), seed + 1);
        let v = random_with((k,), seed + 2);
        let y = a.matmul(&w);
        prop_assert_eq!(y.shape(), [bs, cs, m, n]);
        prop_assert!(close(y.as_slice(), &per_matrix(a.as_slice(), w.as_slice(), bs * cs, (true, false), [m, k, n])));
        let y = a.matmul(&v);
        prop_assert_eq!(y.shape(), [bs, cs, m]);
        prop_assert!(close(y.as_slice(), &per_matrix(a.as_slice(), v.as_slice(), bs * cs, (true, false), [m, k, 1])));
        let l = random_with((n, m), seed + 3);
        let u = random_with((m,), seed + 4);
        let b = random_with((bs, cs, m, k), seed + 5);
        let y = l.matmul(&b);
        prop_assert_eq!(y.shape(), [bs, cs, n, k]);
        prop_assert!(close(y.as_slice(), &per_matrix(l.as_slice(), b.as_slice(), bs * cs, (false, true), [n, m, k])));
        let y = u.matmul(&b);
        prop_assert_eq!(y.shape(), [bs, cs, k]);
        prop_assert!(close(y.as_slice(), &per_matrix(u.as_slice(), b.as_slice(), bs * cs, (false, true), [1, m, k])));
        prop_assert!(gradcheck(|(a, w)| a.matmul(&w).powi(2).sum(), (&a, &w)).is_ok());
        prop_assert!(gradcheck(|(a, v)| a.matmul(&v).powi(2).sum(), (&a, &v)).is_ok());
        prop_assert!(gradcheck(|(l, b)| l.matmul(&b).powi(2).sum(), (&l, &b)).is_ok());
        prop_assert!(gradcheck(|(u, b)| u.matmul(&b).powi(2).sum(), (&u, &b)).is_ok());
    }
}
