//! The examples of the seed documents for the contractions, with the corrected values of
//! `seeds/ERRATA.md`: lucid's `inner` (000), minima's `matmul` (001), lucid's `bilinear` (002) and
//! `linear` (003), and the `np.inner` article (004). For a non-scalar output, "grad" is the gradient of
//! `sum(out)`, as in the errata.

use approx::assert_relative_eq;
use shaped::{NoBias, Rank1, Rank2, Rank3, Tape, Tensor};

// ---- 000: lucid.inner ----

#[test]
fn lucid_inner_of_two_vectors() {
    // inner([1, 2, 3], [4, 5, 6]) = 32; a.grad = b, b.grad = a.
    let a = Tensor::from([1.0, 2.0, 3.0]);
    let b = Tensor::from([4.0, 5.0, 6.0]);
    let tape = Tape::new();
    let (at, bt) = (tape.watch(&a), tape.watch(&b));
    let out = at.inner(&bt);
    assert_eq!(out.item(), 32.0);
    let g = out.backward();
    assert_eq!(g.get(&at).to_array(), [4.0, 5.0, 6.0]);
    assert_eq!(g.get(&bt).to_array(), [1.0, 2.0, 3.0]);
}

#[test]
fn lucid_inner_of_two_matrices_corrected() {
    // ERRATA: out [[17, 23], [39, 53]] (lucid printed [17, 53], the diagonal); a.grad [[12, 14],
    // [12, 14]]; b.grad [[4, 6], [4, 6]].
    let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    let b = Tensor::from([[5.0, 6.0], [7.0, 8.0]]);
    let tape = Tape::new();
    let (at, bt) = (tape.watch(&a), tape.watch(&b));
    let out = at.inner(&bt);
    assert_eq!(out.to_array(), [[17.0, 23.0], [39.0, 53.0]]);
    let g = out.sum().backward();
    assert_eq!(g.get(&at).to_array(), [[12.0, 14.0], [12.0, 14.0]]);
    assert_eq!(g.get(&bt).to_array(), [[4.0, 6.0], [4.0, 6.0]]);
}

// ---- 001: minima matmul ----

#[test]
fn minima_matmul() {
    // matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]]) = [[19, 22], [43, 50]] (both the function and the
    // MatMul op print it).
    let a = Tensor::from([[1.0_f32, 2.0], [3.0, 4.0]]);
    let b = Tensor::from([[5.0_f32, 6.0], [7.0, 8.0]]);
    assert_eq!(a.matmul(&b).to_array(), [[19.0, 22.0], [43.0, 50.0]]);
}

#[test]
fn minima_matmul_gradients() {
    // dL/dA = G B^T and dL/dB = A^T G, with G = ones: A.grad = [[11, 15], [11, 15]] (row sums of B),
    // B.grad = [[4, 4], [6, 6]] (column sums of A).
    let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    let b = Tensor::from([[5.0, 6.0], [7.0, 8.0]]);
    let tape = Tape::new();
    let (at, bt) = (tape.watch(&a), tape.watch(&b));
    let g = at.matmul(&bt).sum().backward();
    assert_eq!(g.get(&at).to_array(), [[11.0, 15.0], [11.0, 15.0]]);
    assert_eq!(g.get(&bt).to_array(), [[4.0, 4.0], [6.0, 6.0]]);
}

#[test]
fn minima_batched_matmul_gradient_corrected() {
    // ERRATA: for A (m, n) used against a batch, dL/dA = sum over the batch of G[b] B[b]^T, shape
    // (m, n). A = [[1, 2]] (1 x 2), B = 2 batches of 2 x 2, G = [[[1, 0]], [[0, 2]]]:
    // G[0] B[0]^T = [1, 0] [[1, 3], [2, 4]] = [1, 3]; G[1] B[1]^T = [0, 2] [[5, 7], [6, 8]] = [12, 16];
    // the sum is [[13, 19]].
    let a = Tensor::from([[1.0, 2.0]]);
    let b = Tensor::from([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]);
    let g = Tensor::from([[[1.0, 0.0]], [[0.0, 2.0]]]);
    let tape = Tape::new();
    let at = tape.watch(&a);
    let out = at.matmul(&b);
    let grads = out.backward_with(&g);
    assert_eq!(grads.get(&at).to_array(), [[13.0, 19.0]]);
    // and B[b].grad = A^T G[b]
    let tape = Tape::new();
    let bt = tape.watch(&b);
    let grads = a.matmul(&bt).backward_with(&g);
    assert_eq!(
        grads.get(&bt).to_array(),
        [[[1.0, 0.0], [2.0, 0.0]], [[0.0, 2.0], [0.0, 4.0]]]
    );
}

// ---- 002: lucid bilinear ----

#[test]
fn lucid_bilinear_without_bias_corrected() {
    // out 145; ERRATA: input_1.grad [[39, 53]] (5*3 + 6*4 = 39); input_2.grad [[19, 22]];
    // weight.grad [[[3, 4], [6, 8]]].
    let x1 = Tensor::from([[1.0, 2.0]]);
    let x2 = Tensor::from([[3.0, 4.0]]);
    let w = Tensor::from([[[5.0, 6.0], [7.0, 8.0]]]);
    let tape = Tape::new();
    let (x1t, x2t, wt) = (tape.watch(&x1), tape.watch(&x2), tape.watch(&w));
    let out = x1t.bilinear(&x2t, &wt, NoBias);
    assert_eq!(out.to_array(), [[145.0]]);
    let g = out.sum().backward();
    assert_eq!(g.get(&x1t).to_array(), [[39.0, 53.0]]);
    assert_eq!(g.get(&x2t).to_array(), [[19.0, 22.0]]);
    assert_eq!(g.get(&wt).to_array(), [[[3.0, 4.0], [6.0, 8.0]]]);
}

#[test]
fn lucid_bilinear_batch_with_bias_corrected() {
    // out [[372], [1134]]; ERRATA: input_1.grad [[105, 127], [143, 173]], input_2.grad [[31, 34],
    // [71, 78]], weight.grad [[[26, 30], [38, 44]]] (shape (1, 2, 2), summed over the batch),
    // bias.grad [[2]] (the bias's shape (1, 1)).
    let x1 = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    let x2 = Tensor::from([[5.0, 6.0], [7.0, 8.0]]);
    let w = Tensor::from([[[9.0, 10.0], [11.0, 12.0]]]);
    let b = Tensor::from([[13.0]]);
    let tape = Tape::new();
    let (x1t, x2t) = (tape.watch(&x1), tape.watch(&x2));
    let (wt, bt) = (tape.watch(&w), tape.watch(&b));
    let out = x1t.bilinear(&x2t, &wt, &bt);
    assert_eq!(out.to_array(), [[372.0], [1134.0]]);
    let g = out.sum().backward();
    assert_eq!(g.get(&x1t).to_array(), [[105.0, 127.0], [143.0, 173.0]]);
    assert_eq!(g.get(&x2t).to_array(), [[31.0, 34.0], [71.0, 78.0]]);
    assert_eq!(g.get(&wt).to_array(), [[[26.0, 30.0], [38.0, 44.0]]]);
    assert_eq!(g.get(&bt).to_array(), [[2.0]]);
    // The same with the bias as PyTorch lays it out, (OUT,).
    let b1 = Tensor::from([13.0]);
    let tape = Tape::new();
    let b1t = tape.watch(&b1);
    let g = x1.bilinear(&x2, &w, &b1t).sum().backward();
    assert_eq!(g.get(&b1t).to_array(), [2.0]);
}

// ---- 003: lucid linear ----

#[test]
fn lucid_linear_without_bias_corrected() {
    // out [[32, 50]]; ERRATA: input_.grad [[11, 13, 15]] (ones(1, 2) @ W, the input's shape);
    // weight.grad [[1, 2, 3], [1, 2, 3]].
    let x = Tensor::from([[1.0, 2.0, 3.0]]);
    let w = Tensor::from([[4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]);
    let tape = Tape::new();
    let (xt, wt) = (tape.watch(&x), tape.watch(&w));
    let out = xt.linear(&wt, NoBias);
    assert_eq!(out.to_array(), [[32.0, 50.0]]);
    let g = out.sum().backward();
    assert_eq!(g.get(&xt).to_array(), [[11.0, 13.0, 15.0]]);
    assert_eq!(g.get(&wt).to_array(), [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]);
}

#[test]
fn lucid_linear_batch_with_bias_corrected() {
    // ERRATA: out [[26, 33], [48, 63]] (3*7 + 4*8 + 10 = 63); input_.grad [[12, 14], [12, 14]];
    // weight.grad [[4, 6], [4, 6]]; bias.grad [[2, 2]], all reduced over the batch.
    let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    let w = Tensor::from([[5.0, 6.0], [7.0, 8.0]]);
    let b = Tensor::from([[9.0, 10.0]]);
    let tape = Tape::new();
    let (xt, wt, bt) = (tape.watch(&x), tape.watch(&w), tape.watch(&b));
    let out = xt.linear(&wt, &bt);
    assert_eq!(out.to_array(), [[26.0, 33.0], [48.0, 63.0]]);
    let g = out.sum().backward();
    assert_eq!(g.get(&xt).to_array(), [[12.0, 14.0], [12.0, 14.0]]);
    assert_eq!(g.get(&wt).to_array(), [[4.0, 6.0], [4.0, 6.0]]);
    assert_eq!(g.get(&bt).to_array(), [[2.0, 2.0]]);
}

// ---- 004: np.inner ----

#[test]
fn np_inner_of_vectors() {
    // np.inner([1, 2, 3], [4, 5, 6]) = 1*4 + 2*5 + 3*6 = 32
    let a = Tensor::from([1.0, 2.0, 3.0]);
    let b = Tensor::from([4.0, 5.0, 6.0]);
    assert_eq!(a.inner(&b).item(), 32.0);
    // the dot product, as matmul of two vectors
    assert_eq!(a.matmul(&b).item(), 32.0);
}

#[test]
fn np_inner_of_matrices() {
    // (2, 3) inner (2, 3) = [[50, 68], [122, 167]], shape (2, 2).
    let a = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let b = Tensor::from([[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]);
    assert_eq!(a.inner(&b).to_array(), [[50.0, 68.0], [122.0, 167.0]]);
}

#[test]
fn np_inner_versus_np_dot() {
    // inner = [[17, 23], [39, 53]], dot = [[19, 22], [43, 50]], and inner(A, B) = dot(A, B.T).
    let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    let b = Tensor::from([[5.0, 6.0], [7.0, 8.0]]);
    assert_eq!(a.inner(&b).to_array(), [[17.0, 23.0], [39.0, 53.0]]);
    assert_eq!(a.matmul(&b).to_array(), [[19.0, 22.0], [43.0, 50.0]]);
    let bt = Tensor::<Rank2<2, 2>, f64>::from_fn(|[i, j]| b[[j, i]]);
    assert_eq!(a.inner(&b), a.matmul(&bt));
}

#[test]
fn np_inner_cosine_similarity_corrected() {
    // ERRATA: 0.9459 and 0.2153 (the article printed 0.985 and 0.289).
    let doc1 = Tensor::from([0.5, 0.3, 0.2, 0.0]);
    let doc2 = Tensor::from([0.4, 0.4, 0.1, 0.1]);
    let doc3 = Tensor::from([0.0, 0.1, 0.3, 0.6]);
    let norm = |d: &Tensor<Rank1<4>, f64>| d.inner(d).item().sqrt();
    let cosine = |a: &Tensor<Rank1<4>, f64>, b: &Tensor<Rank1<4>, f64>| {
        a.inner(b).item() / (norm(a) * norm(b))
    };
    assert_relative_eq!(cosine(&doc1, &doc2), 0.9459, epsilon = 5e-5);
    assert_relative_eq!(cosine(&doc1, &doc3), 0.2153, epsilon = 5e-5);
}

#[test]
fn np_inner_query_against_a_database() {
    // scores = [10, 20, 30, 4]; the best match is index 2 with score 30.
    let query: Tensor<Rank1<4>, f64> = Tensor::from([1.0, 2.0, 3.0, 4.0]);
    let database = Tensor::from([
        [1.0, 1.0, 1.0, 1.0],
        [4.0, 3.0, 2.0, 1.0],
        [1.0, 2.0, 3.0, 4.0],
        [0.0, 0.0, 0.0, 1.0],
    ]);
    let scores = query.inner(&database);
    assert_eq!(scores.to_array(), [10.0, 20.0, 30.0, 4.0]);
    let best = scores
        .as_slice()
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i);
    assert_eq!(best, Some(2));
}

#[test]
fn np_inner_dense_layer_corrected() {
    // ERRATA: [[0.31, 0.20], [0.75, 0.60], [1.19, 1.00]] (the article printed
    // [[0.4, 0.4], [0.96, 1.04], [1.52, 1.68]]).
    let x = Tensor::from([
        [0.1, 0.2, 0.3, 0.4],
        [0.5, 0.6, 0.7, 0.8],
        [0.9, 1.0, 1.1, 1.2],
    ]);
    let w = Tensor::from([[0.5, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]]);
    let b = Tensor::from([0.1, -0.1]);
    let want = Tensor::from([[0.31, 0.20], [0.75, 0.60], [1.19, 1.00]]);
    // inner(X, W) + b, the bias added to every row by hand ...
    let bias_rows = Tensor::<Rank2<3, 2>, f64>::from_fn(|[_, j]| b[[j]]);
    assert_relative_eq!(x.inner(&w) + bias_rows, want, epsilon = 1e-12);
    // ... is exactly what `linear` computes: the weight has one row per neuron in both.
    assert_relative_eq!(x.linear(&w, &b), want, epsilon = 1e-12);
}

#[test]
fn np_inner_matches_einsum() {
    // np.inner(A (3, 4, 5), B (6, 5)) has shape (3, 4, 6) and equals einsum('ijk,lk->ijl').
    let a = Tensor::<Rank3<3, 4, 5>, f64>::from_fn(|[i, j, k]| (i * 20 + j * 5 + k) as f64 * 0.1);
    let b = Tensor::<Rank2<6, 5>, f64>::from_fn(|[l, k]| (l as f64 - 2.0) * (k as f64 + 1.0));
    let c = a.inner(&b);
    assert_eq!(c.shape(), [3, 4, 6]);
    let einsum = Tensor::<Rank3<3, 4, 6>, f64>::from_fn(|[i, j, l]| {
        (0..5).map(|k| a[[i, j, k]] * b[[l, k]]).sum()
    });
    assert_relative_eq!(c, einsum, epsilon = 1e-12);
    // (2, 3, 4) with (5, 4) -> (2, 3, 5)
    let a: Tensor<Rank3<2, 3, 4>, f64> = Tensor::ones();
    let b: Tensor<Rank2<5, 4>, f64> = Tensor::ones();
    assert_eq!(a.inner(&b).shape(), [2, 3, 5]);
}
