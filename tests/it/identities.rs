//! Algebraic identities between the contractions, checked on random values and on their gradients:
//! each side is computed by a different path, so an error in one shows up as a mismatch.
//!
//! Transposes and broadcast biases are built element by element with `Tensor::from_fn`, independently
//! of the ops under test.

use approx::assert_relative_eq;
use rand::SeedableRng;
use rand::rngs::StdRng;
use shaped::{NoBias, Rank1, Rank2, Rank3, StaticShape, Tape, Tensor};

fn random<S: StaticShape>(seed: u64) -> Tensor<S, f64> {
    Tensor::uniform(&mut StdRng::seed_from_u64(seed), -2.0, 2.0)
}

/// The transpose of a matrix, element by element.
fn t<const M: usize, const N: usize>(a: &Tensor<Rank2<M, N>, f64>) -> Tensor<Rank2<N, M>, f64> {
    Tensor::<Rank2<N, M>, f64>::from_fn(|[i, j]| a[[j, i]])
}

#[test]
fn inner_is_matmul_by_the_transpose() {
    // inner(a, b) == a.matmul(b^T) for matrices, values and gradients.
    for seed in 0..5 {
        let a: Tensor<Rank2<4, 6>, f64> = random(seed);
        let b: Tensor<Rank2<3, 6>, f64> = random(seed + 100);
        let bt = t(&b);
        assert_relative_eq!(a.inner(&b), a.matmul(&bt), epsilon = 1e-12);

        // Gradient of sum(inner(a, b) * w) w.r.t. a and b, against the matmul path: d/d(b^T) read back
        // through the transpose.
        let w: Tensor<Rank2<4, 3>, f64> = random(seed + 200);
        let tape = Tape::new();
        let (a1, b1) = (tape.watch(&a), tape.watch(&b));
        let g1 = (a1.inner(&b1) * &w).sum().backward();
        let tape = Tape::new();
        let (a2, bt2) = (tape.watch(&a), tape.watch(&bt));
        let g2 = (a2.matmul(&bt2) * &w).sum().backward();
        assert_relative_eq!(g1.get(&a1), g2.get(&a2), epsilon = 1e-12);
        assert_relative_eq!(g1.get(&b1), t(&g2.get(&bt2)), epsilon = 1e-12);
    }
}

#[test]
fn inner_of_vectors_is_matmul_of_vectors() {
    let u: Tensor<Rank1<7>, f64> = random(1);
    let v: Tensor<Rank1<7>, f64> = random(2);
    assert_relative_eq!(u.inner(&v).item(), u.matmul(&v).item(), epsilon = 1e-12);
}

#[test]
fn linear_is_matmul_by_the_transposed_weight_plus_the_bias() {
    // linear(x, w, b) == x.matmul(w^T) + b, the bias repeated on every row.
    for seed in 0..5 {
        let x: Tensor<Rank2<5, 4>, f64> = random(seed);
        let w: Tensor<Rank2<3, 4>, f64> = random(seed + 10);
        let b: Tensor<Rank1<3>, f64> = random(seed + 20);
        let b_rows = Tensor::<Rank2<5, 3>, f64>::from_fn(|[_, j]| b[[j]]);
        let reference = x.matmul(&t(&w)) + &b_rows;
        assert_relative_eq!(x.linear(&w, &b), reference, epsilon = 1e-12);
        assert_relative_eq!(
            x.linear(&w, &b.reshape::<Rank2<1, 3>>()),
            reference,
            epsilon = 1e-12
        );
        assert_relative_eq!(x.linear(&w, NoBias), x.matmul(&t(&w)), epsilon = 1e-12);

        // Gradients: dx and dW agree with the matmul path; db is the column sums of the seed.
        let v: Tensor<Rank2<5, 3>, f64> = random(seed + 30);
        let tape = Tape::new();
        let (x1, w1, b1) = (tape.watch(&x), tape.watch(&w), tape.watch(&b));
        let g1 = x1.linear(&w1, &b1).backward_with(&v);
        let wt = t(&w);
        let tape = Tape::new();
        let (x2, wt2) = (tape.watch(&x), tape.watch(&wt));
        let g2 = x2.matmul(&wt2).backward_with(&v);
        assert_relative_eq!(g1.get(&x1), g2.get(&x2), epsilon = 1e-12);
        assert_relative_eq!(g1.get(&w1), t(&g2.get(&wt2)), epsilon = 1e-12);
        let col_sums = Tensor::<Rank1<3>, f64>::from_fn(|[j]| (0..5).map(|i| v[[i, j]]).sum());
        assert_relative_eq!(g1.get(&b1), col_sums, epsilon = 1e-12);
    }
}

#[test]
fn linear_is_inner_plus_the_bias() {
    // With one weight row per output, x W^T is np.inner(x, W), for any leading axes.
    let x: Tensor<Rank3<2, 3, 4>, f64> = random(7);
    let w: Tensor<Rank2<5, 4>, f64> = random(8);
    assert_relative_eq!(x.linear(&w, NoBias), x.inner(&w), epsilon = 1e-12);
}

#[test]
fn transpose_of_a_product_is_the_product_of_the_transposes_reversed() {
    // (A B)^T == B^T A^T
    for seed in 0..5 {
        let a: Tensor<Rank2<3, 5>, f64> = random(seed);
        let b: Tensor<Rank2<5, 4>, f64> = random(seed + 50);
        assert_relative_eq!(t(&a.matmul(&b)), t(&b).matmul(&t(&a)), epsilon = 1e-12);
    }
}

#[test]
fn matmul_is_associative() {
    let a: Tensor<Rank2<2, 3>, f64> = random(1);
    let b: Tensor<Rank2<3, 4>, f64> = random(2);
    let c: Tensor<Rank2<4, 5>, f64> = random(3);
    assert_relative_eq!(
        a.matmul(&b).matmul(&c),
        a.matmul(&b.matmul(&c)),
        epsilon = 1e-12
    );
}

#[test]
fn batched_matmul_is_a_stack_of_matmuls() {
    // [B, M, K] x [K, N] equals the batch reshaped to [B * M, K] times the same matrix.
    let a: Tensor<Rank3<4, 2, 3>, f64> = random(11);
    let w: Tensor<Rank2<3, 5>, f64> = random(12);
    let stacked = a.reshape::<Rank2<8, 3>>().matmul(&w);
    assert_relative_eq!(
        a.matmul(&w).reshape::<Rank2<8, 5>>(),
        stacked,
        epsilon = 1e-12
    );
}

#[test]
fn bilinear_with_an_identity_weight_is_the_row_wise_dot_product() {
    // W = [I]: y[n] = x1[n] . x2[n].
    let x1: Tensor<Rank2<3, 4>, f64> = random(21);
    let x2: Tensor<Rank2<3, 4>, f64> = random(22);
    let eye = Tensor::<Rank3<1, 4, 4>, f64>::from_fn(|[_, i, j]| if i == j { 1.0 } else { 0.0 });
    let y = x1.bilinear(&x2, &eye, NoBias);
    let dots =
        Tensor::<Rank2<3, 1>, f64>::from_fn(|[n, _]| (0..4).map(|i| x1[[n, i]] * x2[[n, i]]).sum());
    assert_relative_eq!(y, dots, epsilon = 1e-12);
}

#[test]
fn bilinear_is_x1_times_w_k_times_x2() {
    // One output k at a time: y[n, k] = x1[n] W_k x2[n]^T, through matmul and inner.
    let x1: Tensor<Rank2<2, 3>, f64> = random(31);
    let x2: Tensor<Rank2<2, 4>, f64> = random(32);
    let w: Tensor<Rank3<5, 3, 4>, f64> = random(33);
    let b: Tensor<Rank1<5>, f64> = random(34);
    let y = x1.bilinear(&x2, &w, &b);
    for k in 0..5 {
        let wk = Tensor::<Rank2<3, 4>, f64>::from_fn(|[i, j]| w[[k, i, j]]);
        // x1 W_k is [2, 4]; its row n dotted with x2's row n.
        let m = x1.matmul(&wk);
        for n in 0..2 {
            let row = Tensor::<Rank1<4>, f64>::from_fn(|[j]| m[[n, j]]);
            let x2n = Tensor::<Rank1<4>, f64>::from_fn(|[j]| x2[[n, j]]);
            assert_relative_eq!(y[[n, k]], row.inner(&x2n).item() + b[[k]], epsilon = 1e-12);
        }
    }
}
