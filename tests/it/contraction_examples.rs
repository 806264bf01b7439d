//! Worked examples of the contractions `inner`, `matmul`, `bilinear` and `linear`: their outputs
//! and gradients on small tensors, with values computed by hand. `inner` follows numpy's
//! `np.inner`: it contracts the last axis of both operands, so that `inner(A, B) = matmul(A, B^T)`
//! for matrices. For a non-scalar output, "grad" is the gradient of `sum(out)`: the upstream
//! gradient is all ones.

use approx::assert_relative_eq;
use shaped::{NoBias, Rank1, Rank2, Rank3, Tape, Tensor};

// ---- inner ----

#[test]
fn inner_of_two_vectors() {
    // inner([1, 2, 3], [4, 5, 6]) = 1*4 + 2*5 + 3*6 = 32. d(a . b)/da = b = [4, 5, 6] and
    // d(a . b)/db = a = [1, 2, 3].
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
fn inner_of_two_matrices_is_every_row_against_every_row() {
    // inner contracts the last axes of both: out[i][j] = sum_k a[i][k] b[j][k] =
    // [[17, 23], [39, 53]]; the diagonal alone, [17, 53], would be the elementwise row dot.
    // With L = sum(out), dL/da[i][k] = sum_j b[j][k], the column sums of b, [12, 14] in every row,
    // and dL/db[j][k] = sum_i a[i][k], the column sums of a, [4, 6] in every row.
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

// ---- matmul ----

// The product of two matrices and the gradients of its sum are checked in src/ops/matmul.rs's unit
// tests; here, the gradients of a matrix shared across a batch.

#[test]
fn matmul_gradient_of_a_matrix_shared_across_a_batch_sums_over_the_batch() {
    // A (m, n) multiplies every matrix of a batch B: dL/dA = sum over the batch of G[b] B[b]^T, of
    // A's shape (m, n). A = [[1, 2]] (1 x 2), B = 2 batches of 2 x 2, G = [[[1, 0]], [[0, 2]]]:
    // G[0] B[0]^T = [1, 0] [[1, 3], [2, 4]] = [1, 3];
    // G[1] B[1]^T = [0, 2] [[5, 7], [6, 8]] = [12, 16]; the sum is [[13, 19]].
    let a = Tensor::from([[1.0, 2.0]]);
    let b = Tensor::from([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]);
    let g = Tensor::from([[[1.0, 0.0]], [[0.0, 2.0]]]);
    let tape = Tape::new();
    let at = tape.watch(&a);
    let out = at.matmul(&b);
    let grads = out.backward_with(&g);
    assert_eq!(grads.get(&at).to_array(), [[13.0, 19.0]]);
    // and dL/dB[b] = A^T G[b], one per batch: [[1], [2]] [[1, 0]] = [[1, 0], [2, 0]] and
    // [[1], [2]] [[0, 2]] = [[0, 2], [0, 4]].
    let tape = Tape::new();
    let bt = tape.watch(&b);
    let grads = a.matmul(&bt).backward_with(&g);
    assert_eq!(
        grads.get(&bt).to_array(),
        [[[1.0, 0.0], [2.0, 0.0]], [[0.0, 2.0], [0.0, 4.0]]]
    );
}

// ---- bilinear ----

#[test]
fn bilinear_without_bias() {
    // out[o] = x1^T W[o] x2 = sum_ij x1[i] W[o][i][j] x2[j]:
    // W x2 = [5*3 + 6*4, 7*3 + 8*4] = [39, 53] and x1 . [39, 53] = 39 + 106 = 145.
    // d/dx1 = W x2 = [[39, 53]]; d/dx2 = W^T x1 = [5*1 + 7*2, 6*1 + 8*2] = [[19, 22]];
    // d/dW[o][i][j] = x1[i] x2[j], the outer product [[[3, 4], [6, 8]]].
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
fn bilinear_batch_with_bias_sums_the_parameter_gradients_over_the_batch() {
    // out[n] = x1[n]^T W x2[n] + b: W x2[0] = [105, 127], 1*105 + 2*127 + 13 = 372;
    // W x2[1] = [143, 173], 3*143 + 4*173 + 13 = 1134. With L = sum(out), per row
    // d/dx1[n] = W x2[n] = [[105, 127], [143, 173]] and
    // d/dx2[n] = W^T x1[n] = [[31, 34], [71, 78]]; the parameters' gradients are summed over the
    // batch: d/dW = sum_n x1[n] x2[n]^T = [[5, 6], [10, 12]] + [[21, 24], [28, 32]] =
    // [[[26, 30], [38, 44]]], of W's shape (1, 2, 2), and d/db = 1 per row, 2 in all, of the
    // bias's shape (1, 1): [[2]].
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
    // The same with a bias of shape (OUT,): d/db = 2, of that shape, [2].
    let b1 = Tensor::from([13.0]);
    let tape = Tape::new();
    let b1t = tape.watch(&b1);
    let g = x1.bilinear(&x2, &w, &b1t).sum().backward();
    assert_eq!(g.get(&b1t).to_array(), [2.0]);
}

// ---- linear ----

#[test]
fn linear_without_bias() {
    // out = x W^T, one output per row of W: [1*4 + 2*5 + 3*6, 1*7 + 2*8 + 3*9] = [[32, 50]]. With
    // L = sum(out), d/dx = ones(1, 2) W, the column sums of W, [[11, 13, 15]] (the input's shape);
    // d/dW[o][i] = x[i] for every output o: [[1, 2, 3], [1, 2, 3]].
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
fn linear_batch_with_bias_sums_the_parameter_gradients_over_the_batch() {
    // out = x W^T + b: [[1*5 + 2*6 + 9, 1*7 + 2*8 + 10], [3*5 + 4*6 + 9, 3*7 + 4*8 + 10]] =
    // [[26, 33], [48, 63]]. With L = sum(out), d/dx[n] = ones W, the column sums of W, [12, 14] in
    // every row; the parameters' gradients are summed over the batch: d/dW[o] = sum_n x[n], the
    // column sums of x, [4, 6] in every row, and d/db = 1 per row, [[2, 2]].
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

// ---- inner as np.inner, and its uses ----

#[test]
fn inner_of_vectors_is_the_dot_product() {
    // inner([1, 2, 3], [4, 5, 6]) = 1*4 + 2*5 + 3*6 = 32
    let a = Tensor::from([1.0, 2.0, 3.0]);
    let b = Tensor::from([4.0, 5.0, 6.0]);
    assert_eq!(a.inner(&b).item(), 32.0);
    // the dot product, as matmul of two vectors
    assert_eq!(a.matmul(&b).item(), 32.0);
}

#[test]
fn inner_of_two_matrices_of_three_columns() {
    // (2, 3) inner (2, 3) has shape (2, 2), one row of a against one row of b:
    // [1, 2, 3] . [7, 8, 9] = 50, [1, 2, 3] . [10, 11, 12] = 68, [4, 5, 6] . [7, 8, 9] = 122,
    // [4, 5, 6] . [10, 11, 12] = 167.
    let a = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let b = Tensor::from([[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]);
    assert_eq!(a.inner(&b).to_array(), [[50.0, 68.0], [122.0, 167.0]]);
}

#[test]
fn inner_is_matmul_with_the_second_operand_transposed() {
    // inner contracts the last axes, matmul the last of A with the first of B: inner =
    // [[17, 23], [39, 53]], matmul = [[19, 22], [43, 50]], and inner(A, B) = matmul(A, B^T).
    let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    let b = Tensor::from([[5.0, 6.0], [7.0, 8.0]]);
    assert_eq!(a.inner(&b).to_array(), [[17.0, 23.0], [39.0, 53.0]]);
    assert_eq!(a.matmul(&b).to_array(), [[19.0, 22.0], [43.0, 50.0]]);
    let bt = Tensor::<Rank2<2, 2>, f64>::from_fn(|[i, j]| b[[j, i]]);
    assert_eq!(a.inner(&b), a.matmul(&bt));
}

#[test]
fn inner_gives_the_cosine_similarity() {
    // cos(a, b) = inner(a, b) / (|a| |b|), |a| = sqrt(inner(a, a)):
    // cos(doc1, doc2) = 0.34 / sqrt(0.38 * 0.34) = 0.9459;
    // cos(doc1, doc3) = 0.09 / sqrt(0.38 * 0.46) = 0.2153.
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
fn inner_scores_a_query_against_every_row_of_a_database() {
    // inner(query, database) takes the query against each row: scores = [10, 20, 30, 4]; the best
    // match is index 2 with score 30.
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
fn inner_plus_bias_is_a_dense_layer_and_equals_linear() {
    // out[n][o] = x[n] . w[o] + b[o]: row 0 gives 0.21 + 0.1 = 0.31 and 0.30 - 0.1 = 0.20, row 1
    // 0.65 + 0.1 = 0.75 and 0.70 - 0.1 = 0.60, row 2 1.09 + 0.1 = 1.19 and 1.10 - 0.1 = 1.00:
    // [[0.31, 0.20], [0.75, 0.60], [1.19, 1.00]].
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
fn inner_of_a_rank_3_tensor_and_a_matrix_matches_einsum() {
    // inner(A (3, 4, 5), B (6, 5)) contracts the last axes, so has shape (3, 4, 6) and equals
    // einsum('ijk,lk->ijl'): out[i][j][l] = sum_k A[i][j][k] B[l][k].
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
