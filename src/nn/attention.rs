//! Attention: [`scaled_dot_product_attention`] and the layer [`MultiheadAttention`].

use rand::Rng;
use std::sync::Arc;

use crate::buffer::Buffer;
use crate::const_msg::ConstMsg;
use crate::module::{Visit, VisitMut, ZipMut, push_segment};
use crate::nn::{Dropout, Linear, LinearGrads};
use crate::ops::Merged;
use crate::shape::check_same;
use crate::{
    Axes4, Const, Dim, Element, Grads, Mask, MatMulShape, Merge, Module, NoTape, Rank2, Rank3,
    Shape, Tape, Tensor, Tracking, Trainable, Transposable,
};

/// The scores that a softmax row leaves out (weight exactly 0): with `causal`, the entries above the
/// diagonal of the last two axes; with `padding = (mask, rows)`, the keys that a `[B, S]` key padding
/// mask marks, for rows taken `rows` to a batch.
#[derive(Clone, Copy, Debug, Default)]
struct Masking<'a> {
    causal: bool,
    padding: Option<(&'a [bool], usize)>,
}

/// `softmax` over the last axis of `x`, with the entries that `masking` leaves out at weight exactly
/// 0: `y[.., i, j] = exp(x[.., i, j]) / sum_k exp(x[.., i, k])` over the kept `j` and `k`, and NaN
/// in a row that keeps nothing (PyTorch's softmax over scores that are all `-inf`). Derivative:
/// `dx = y (dy - sum_k dy y)` per row.
fn softmax_last<S: Shape, E: Element, T: Tracking<E>>(
    x: &Tensor<S, E, T>,
    masking: Masking<'_>,
) -> Tensor<S, E, T> {
    let dims = x.shape();
    let dims = dims.as_ref();
    let cols = dims[dims.len() - 1];
    let rows_per = dims[dims.len() - 2];
    let xv = x.data();
    let n = xv.len();
    let mut y = Buffer::uninit(n);
    if cols > 0 {
        for (r, (xr, yr)) in xv
            .chunks_exact(cols)
            .zip(y.chunks_exact_mut(cols))
            .enumerate()
        {
            // Row i of its matrix keeps the columns j <= i, and of those the keys not padded.
            let keep = if masking.causal {
                (r % rows_per + 1).min(cols)
            } else {
                cols
            };
            let padded = masking
                .padding
                .map(|(mask, rows)| &mask[r / rows * cols..][..cols]);
            let kept = |j: usize| padded.is_none_or(|p| !p[j]);
            if !(0..keep).any(kept) {
                yr.fill(E::nan());
                continue;
            }
            let max = (0..keep)
                .filter(|&j| kept(j))
                .fold(E::neg_infinity(), |m, j| m.max(xr[j]));
            let mut sum = E::zero();
            for (j, (o, &v)) in yr[..keep].iter_mut().zip(&xr[..keep]).enumerate() {
                *o = if kept(j) { (v - max).exp() } else { E::zero() };
                sum += *o;
            }
            for o in &mut yr[..keep] {
                *o /= sum;
            }
            for o in &mut yr[keep..] {
                *o = E::zero();
            }
        }
    }
    let y = Arc::new(y);
    let tape = x.tape().record([x.input()], n, |[node]| {
        let y = Arc::clone(&y);
        Box::new(move |dy, grads| {
            let Some(node) = node else { return };
            if cols == 0 {
                return;
            }
            let dx = grads.acc(node);
            for ((dr, gr), yr) in dx
                .chunks_exact_mut(cols)
                .zip(dy.chunks_exact(cols))
                .zip(y.chunks_exact(cols))
            {
                let dot = gr.iter().zip(yr).fold(E::zero(), |s, (&g, &v)| s + g * v);
                for ((d, &g), &v) in dr.iter_mut().zip(gr).zip(yr) {
                    *d += v * (g - dot);
                }
            }
        })
    });
    Tensor::from_parts(y, x.typed_shape(), tape)
}

/// Scaled dot-product attention, PyTorch's `F.scaled_dot_product_attention(q, k, v,
/// is_causal=causal)`: `softmax(q k^T / sqrt(D)) v` for queries `q: [.., L, D]`, keys
/// `k: [.., S, D]` and values `v: [.., S, Dv]`, giving `[.., L, Dv]`. With `causal`, query `i`
/// attends to the keys `j <= i` only (PyTorch's lower-triangular mask, aligned at the top left):
/// the others get weight exactly 0, as PyTorch's additive mask of `-inf` gives them.
///
/// Derivative, with `P` the attention weights and `dP = dY v^T`: `dv = P^T dY`,
/// `dscores = P (dP - rowsum(dP P))`, `dq = dscores k / sqrt(D)`, `dk = dscores^T q / sqrt(D)`.
///
/// The shapes follow [`matmul`](Tensor::matmul)'s rules (leading axes equal, `q`'s and `k`'s last
/// axes equal, `k`'s and `v`'s key axes equal): a type error between static sizes, a check when
/// the op runs otherwise.
///
/// Edge values: a NaN or an infinity in a query row makes that output row NaN; a row of equal
/// scores averages the values.
///
/// # Panics
/// When run-time dimensions differ; the message names the op and both sizes:
/// `scaled_dot_product_attention: the widths of the queries and the keys differ: 4 and 3`,
/// `scaled_dot_product_attention: the lengths of the keys and the values differ: 3 and 5`,
/// `scaled_dot_product_attention: the batch axes [2] and [3] cannot be broadcast together`.
///
/// ```
/// use shaped::nn::scaled_dot_product_attention;
/// use shaped::{Rank2, Tensor};
///
/// // Two queries, two keys of width 2: the first query matches the first key.
/// let q = Tensor::from([[10.0, 0.0], [0.0, 0.0]]);
/// let k = Tensor::from([[10.0, 0.0], [0.0, 10.0]]);
/// let v = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
/// let y: Tensor<Rank2<2, 2>, f64> = scaled_dot_product_attention(&q, &k, &v, false);
/// assert!((y.to_array()[0][0] - 1.0).abs() < 1e-12); // all weight on the first value
/// assert_eq!(y.to_array()[1], [2.0, 3.0]); // equal scores: the mean of the values
/// // Causal: the first query sees the first key only.
/// let c = scaled_dot_product_attention(&Tensor::<Rank2<2, 2>, f64>::zeros(), &k, &v, true);
/// assert_eq!(c.to_array(), [[1.0, 2.0], [2.0, 3.0]]);
/// ```
#[must_use]
#[track_caller]
pub fn scaled_dot_product_attention<Q, K, V, KT, SC, E, T>(
    q: &Tensor<Q, E, T>,
    k: &Tensor<K, E, T>,
    v: &Tensor<V, E, T>,
    causal: bool,
) -> Tensor<<SC as MatMulShape<V>>::Output, E, T>
where
    Q: MatMulShape<KT, Output = SC>,
    K: Transposable<Output = KT>,
    KT: Shape,
    SC: MatMulShape<V>,
    V: Shape,
    E: Element,
    T: Tracking<E>,
{
    let op = "scaled_dot_product_attention";
    let (qd, kd, vd) = (q.shape(), k.shape(), v.shape());
    let (qd, kd, vd) = (qd.as_ref(), kd.as_ref(), vd.as_ref());
    // q [.., L, D] x k^T [.., D, S]; then the weights [.., L, S] x v [.., S, Dv] (or v [S]).
    if let (Some(&dq), Some(&dk)) = (qd.last(), kd.last()) {
        check_same(op, "the widths of the queries and the keys", dq, dk);
    }
    if kd.len() >= 2 && !vd.is_empty() {
        let sv = if vd.len() >= 2 {
            vd[vd.len() - 2]
        } else {
            vd[0]
        };
        check_same(
            op,
            "the lengths of the keys and the values",
            kd[kd.len() - 2],
            sv,
        );
    }
    let masking = Masking {
        causal,
        padding: None,
    };
    attention_weights(q, k, masking, op).matmul_in(op, v)
}

/// The attention weights `softmax(q k^T / sqrt(D))` of queries `q: [.., L, D]` over keys `k: [.., S,
/// D]`, `[.., L, S]`, with the scores that `masking` leaves out at weight 0. A run-time mismatch
/// panics with a message that names `op`.
#[track_caller]
fn attention_weights<Q, K, KT, SC, E, T>(
    q: &Tensor<Q, E, T>,
    k: &Tensor<K, E, T>,
    masking: Masking<'_>,
    op: &str,
) -> Tensor<SC, E, T>
where
    Q: MatMulShape<KT, Output = SC>,
    K: Transposable<Output = KT>,
    KT: Shape,
    SC: Shape,
    E: Element,
    T: Tracking<E>,
{
    let dims = q.shape();
    let d = dims.as_ref()[dims.as_ref().len() - 1];
    let scale = E::one() / E::from_f64_lossy(d as f64).sqrt();
    let scores = q.matmul_in(op, &k.transpose()) * scale;
    softmax_last(&scores, masking)
}

/// Multi-head attention, PyTorch's `nn.MultiheadAttention(EMBED, HEADS, batch_first=True)`
/// (with its biases): the queries, keys and values `[B, L, EMBED]` are projected
/// by the rows of `in_proj_weight` and `in_proj_bias` (queries, keys, values in that order), split
/// into `HEADS` heads of `HEAD_DIM` features, attended by
/// [`scaled_dot_product_attention`] in each head, joined and projected by `out_proj`.
///
/// `EMBED` must be `HEADS x HEAD_DIM`; the constructors check it when the program is built (`cargo
/// build`, not `cargo check`), with an error whose first line names the three numbers:
/// `MultiheadAttention: embed 10 is not heads 4 x head_dim 2 (= 8)`.
///
/// Parameters, PyTorch's names and shapes: `in_proj_weight` `[3 EMBED, EMBED]`, `in_proj_bias`
/// `[3 EMBED]`, `out_proj.weight` `[EMBED, EMBED]`, `out_proj.bias` `[EMBED]`. The first two are
/// typed `[3, EMBED, EMBED]` and `[3, EMBED]` (the same values in the same order: the query, key
/// and value parts), since stable Rust cannot write `3 x EMBED` in a type; they are named, saved
/// and loaded with PyTorch's shapes.
///
/// [`forward`](MultiheadAttention::forward) returns the attention output only (PyTorch's
/// `need_weights=False`); `causal` is PyTorch's `is_causal=True` with the causal `attn_mask`.
/// [`attend`](MultiheadAttention::attend) takes PyTorch's other options ([`AttentionOptions`]: a
/// `key_padding_mask`, the dropout of the attention weights) and also returns the attention
/// weights, per head and averaged over the heads. The batch and the sequence lengths are static or
/// known at run time.
///
/// ```
/// use shaped::nn::MultiheadAttention;
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Module, Rank3, Tensor};
///
/// // 8 features in 2 heads of 4.
/// let mha: MultiheadAttention<8, 2, 4> = MultiheadAttention::new(&mut StdRng::seed_from_u64(0));
/// let names: Vec<String> = mha.params().into_iter().map(|p| format!("{} {:?}", p.name, p.dims)).collect();
/// assert_eq!(names, ["in_proj_weight [24, 8]", "in_proj_bias [24]", "out_proj.weight [8, 8]", "out_proj.bias [8]"]);
/// let x: Tensor<Rank3<3, 5, 8>> = Tensor::ones();
/// let y = mha.forward(&x, &x, &x, false);
/// assert_eq!(y.shape(), [3, 5, 8]);
/// ```
///
/// ```compile_fail
/// use shaped::nn::MultiheadAttention;
/// let _: MultiheadAttention<10, 4, 2> = MultiheadAttention::zeros(); // 10 is not 4 x 2
/// ```
#[derive(Clone, Debug)]
pub struct MultiheadAttention<
    const EMBED: usize,
    const HEADS: usize,
    const HEAD_DIM: usize,
    E: Element = f32,
    T: Tracking<E> = NoTape,
> {
    /// The query, key and value projections' weights, `[3, EMBED, EMBED]` (PyTorch's
    /// `in_proj_weight` `[3 EMBED, EMBED]`).
    pub in_proj_weight: Tensor<Rank3<3, EMBED, EMBED>, E, T>,
    /// The query, key and value projections' biases, `[3, EMBED]` (PyTorch's `in_proj_bias`
    /// `[3 EMBED]`).
    pub in_proj_bias: Tensor<Rank2<3, EMBED>, E, T>,
    /// The output projection (`out_proj.weight`, `out_proj.bias`).
    pub out_proj: Linear<EMBED, EMBED, E, T>,
}

/// The gradients of a [`MultiheadAttention`]: the same fields, with the same types.
///
/// ```
/// use shaped::nn::{MultiheadAttention, MultiheadAttentionGrads};
/// use shaped::{Module, Rank3, Tensor};
/// let mha: MultiheadAttention<4, 2, 2, f64> = MultiheadAttention::zeros();
/// let x: Tensor<Rank3<1, 3, 4>, f64> = Tensor::ones();
/// let (_, g): (f64, MultiheadAttentionGrads<4, 2, 2, f64>) =
///     mha.value_and_grad(|m| m.forward(&x, &x, &x, false).sum());
/// // loss = sum of the 3 x 4 outputs, each `+ out_proj.bias[j]` once per position: 3
/// assert_eq!(g.out_proj.bias.unwrap().to_vec(), vec![3.0; 4]);
/// ```
#[derive(Clone, Debug)]
pub struct MultiheadAttentionGrads<
    const EMBED: usize,
    const HEADS: usize,
    const HEAD_DIM: usize,
    E: Element = f32,
> {
    /// The gradient of `in_proj_weight`.
    pub in_proj_weight: Tensor<Rank3<3, EMBED, EMBED>, E>,
    /// The gradient of `in_proj_bias`.
    pub in_proj_bias: Tensor<Rank2<3, EMBED>, E>,
    /// The gradient of `out_proj`.
    pub out_proj: LinearGrads<EMBED, EMBED, E>,
}

impl<const EMBED: usize, const HEADS: usize, const HEAD_DIM: usize, E: Element, T: Tracking<E>>
    MultiheadAttention<EMBED, HEADS, HEAD_DIM, E, T>
{
    /// The build-time check of the head split.
    const SPLIT: () = {
        if EMBED != HEADS * HEAD_DIM {
            let m = ConstMsg::new()
                .str("MultiheadAttention: embed ")
                .num(EMBED)
                .str(" is not heads ")
                .num(HEADS)
                .str(" x head_dim ")
                .num(HEAD_DIM)
                .str(" (= ")
                .num(HEADS * HEAD_DIM)
                .str(")");
            panic!("{}", m.as_str());
        }
    };
}

impl<const EMBED: usize, const HEADS: usize, const HEAD_DIM: usize, E: Element>
    MultiheadAttention<EMBED, HEADS, HEAD_DIM, E>
{
    /// A layer with PyTorch's initialization: `in_proj_weight` Xavier-uniform over `[3 EMBED,
    /// EMBED]` (bound `sqrt(6 / (4 EMBED))`), `in_proj_bias` and `out_proj.bias` zeros,
    /// `out_proj.weight` as `nn.Linear`'s (`U(-1/sqrt(EMBED), 1/sqrt(EMBED))`).
    ///
    /// Fails to build when `EMBED != HEADS x HEAD_DIM` (see the type's docs).
    ///
    /// ```
    /// use shaped::nn::MultiheadAttention;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// let mha: MultiheadAttention<6, 3, 2> = MultiheadAttention::new(&mut StdRng::seed_from_u64(0));
    /// // Xavier bound sqrt(6 / (4 * 6)) = 0.5
    /// assert!(mha.in_proj_weight.as_slice().iter().all(|w| w.abs() <= 0.5));
    /// assert_eq!(mha.in_proj_bias.to_vec(), vec![0.0; 18]);
    /// assert_eq!(mha.out_proj.bias.unwrap().to_vec(), vec![0.0; 6]);
    /// ```
    #[must_use]
    pub fn new<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let bound = E::from_f64_lossy((6.0 / (4 * EMBED) as f64).sqrt());
        let w = Tensor::uniform(rng, -bound, bound);
        let mut out_proj = Linear::new(rng);
        out_proj.bias = Some(Tensor::zeros());
        Self::from_weights(w, Tensor::zeros(), out_proj)
    }

    /// A layer with the given weights: `in_proj_weight` `[3, EMBED, EMBED]` (PyTorch's
    /// `[3 EMBED, EMBED]` read as three blocks), `in_proj_bias` `[3, EMBED]` and the output
    /// projection.
    ///
    /// Fails to build when `EMBED != HEADS x HEAD_DIM`.
    ///
    /// ```
    /// use shaped::nn::{Linear, MultiheadAttention};
    /// use shaped::{Rank3, Tensor};
    /// // every projection the identity, biases zero, one head
    /// let eye = [[1.0, 0.0], [0.0, 1.0]];
    /// let mha: MultiheadAttention<2, 1, 2, f64> = MultiheadAttention::from_weights(
    ///     Tensor::from([eye; 3]),
    ///     Tensor::zeros(),
    ///     Linear::from_weights(Tensor::from(eye), Some(Tensor::zeros())),
    /// );
    /// // one key: its weight is 1, so the output is its value
    /// let q: Tensor<Rank3<1, 1, 2>, f64> = Tensor::from([[[5.0, -5.0]]]);
    /// let kv = Tensor::from([[[3.0, 4.0]]]);
    /// assert_eq!(mha.forward(&q, &kv, &kv, false).to_vec(), vec![3.0, 4.0]);
    /// ```
    #[must_use]
    pub fn from_weights(
        in_proj_weight: Tensor<Rank3<3, EMBED, EMBED>, E>,
        in_proj_bias: Tensor<Rank2<3, EMBED>, E>,
        out_proj: Linear<EMBED, EMBED, E>,
    ) -> Self {
        let () = Self::SPLIT;
        Self {
            in_proj_weight,
            in_proj_bias,
            out_proj,
        }
    }

    /// A layer of zeros (with biases), to load a checkpoint into.
    ///
    /// Fails to build when `EMBED != HEADS x HEAD_DIM`.
    ///
    /// ```
    /// use shaped::nn::MultiheadAttention;
    /// use shaped::{Module, Rank3, Tensor};
    /// let mha: MultiheadAttention<4, 2, 2> = MultiheadAttention::zeros();
    /// assert_eq!(mha.param_count(), 3 * 4 * 4 + 3 * 4 + 4 * 4 + 4);
    /// let x: Tensor<Rank3<1, 2, 4>> = Tensor::ones();
    /// assert_eq!(mha.forward(&x, &x, &x, false).to_vec(), vec![0.0; 8]); // zero output projection
    /// ```
    #[must_use]
    pub fn zeros() -> Self {
        Self::from_weights(Tensor::zeros(), Tensor::zeros(), Linear::zeros())
    }
}

/// The query, key or value part `i` of the input projection: `x W_i^T + b_i`.
fn project<const EMBED: usize, E: Element, X, T: Tracking<E>>(
    x: &Tensor<(usize, usize, Const<EMBED>), E, X>,
    w: &Tensor<Rank3<3, EMBED, EMBED>, E, T>,
    b: &Tensor<Rank2<3, EMBED>, E, T>,
    i: usize,
) -> Tensor<(usize, usize, Const<EMBED>), E, Merged<E, X, T>>
where
    X: Tracking<E> + Merge<E, T>,
    Merged<E, X, T>: Merge<E, T, Output = Merged<E, X, T>>,
{
    let pick = crate::Indices::<Const<1>, Const<3>>::new([i]).expect("0, 1 or 2");
    let wi = w
        .index_select(crate::Axis::<0>, &pick)
        .reshape::<Rank2<EMBED, EMBED>>();
    let bi = b
        .index_select(crate::Axis::<0>, &pick)
        .reshape::<crate::Rank1<EMBED>>();
    x.linear(&wi, &bi)
}

impl<const EMBED: usize, const HEADS: usize, const HEAD_DIM: usize, E: Element, T: Tracking<E>>
    MultiheadAttention<EMBED, HEADS, HEAD_DIM, E, T>
{
    /// The attention of `query` `[B, L, EMBED]` over `key` and `value` `[B, S, EMBED]`:
    /// `[B, L, EMBED]`, PyTorch's `mha(query, key, value, need_weights=False, is_causal=causal)[0]`
    /// (with the causal `attn_mask`). The inputs are data or the output of other layers on the same
    /// tape (the three have one tracking). Static shapes or tuples with a run-time batch or lengths
    /// (`(usize, usize, Const<EMBED>)`); the result is a tuple shape. [`attend`](Self::attend) takes
    /// a key padding mask and a dropout too, and gives the attention weights.
    ///
    /// # Panics
    /// When run-time sizes differ: the batch of the three inputs, or the lengths of `key` and
    /// `value` (the message names both).
    ///
    /// ```
    /// use shaped::nn::{Linear, MultiheadAttention};
    /// use shaped::{Const, Tensor};
    /// let eye = [[1.0, 0.0], [0.0, 1.0]];
    /// let mha: MultiheadAttention<2, 1, 2, f64> = MultiheadAttention::from_weights(
    ///     Tensor::from([eye; 3]),
    ///     Tensor::zeros(),
    ///     Linear::from_weights(Tensor::from(eye), Some(Tensor::zeros())),
    /// );
    /// // keys of zeros: equal scores, so each query averages the values it may see
    /// let q = Tensor::<(usize, usize, Const<2>), f64>::ones_with((1, 2, Const));
    /// let k = Tensor::<(usize, usize, Const<2>), f64>::zeros_with((1, 2, Const));
    /// let v = Tensor::from_vec_with((1, 2, Const), vec![1.0, 2.0, 3.0, 4.0])?;
    /// assert_eq!(mha.forward(&q, &k, &v, false).to_vec(), vec![2.0, 3.0, 2.0, 3.0]);
    /// // causal: position 0 sees value 0 only
    /// assert_eq!(mha.forward(&q, &k, &v, true).to_vec(), vec![1.0, 2.0, 2.0, 3.0]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    #[track_caller]
    #[allow(clippy::type_complexity)] // the output's shape and tracking, spelled out
    pub fn forward<QS, KS, X>(
        &self,
        query: &Tensor<QS, E, X>,
        key: &Tensor<KS, E, X>,
        value: &Tensor<KS, E, X>,
        causal: bool,
    ) -> Tensor<(QS::B, QS::L, Const<EMBED>), E, Merged<E, X, T>>
    where
        QS: Sequence<EMBED>,
        KS: Sequence<EMBED, B = QS::B>,
        X: Tracking<E> + Merge<E, T>,
        Merged<E, X, T>:
            Merge<E, T, Output = Merged<E, X, T>> + Merge<E, NoTape, Output = Merged<E, X, T>>,
    {
        let options = AttentionOptions {
            causal,
            ..AttentionOptions::default()
        };
        self.attend(query, key, value, &options).output
    }

    /// The attention of `query` `[B, L, EMBED]` over `key` and `value` `[B, S, EMBED]` with PyTorch's
    /// options ([`AttentionOptions`]: `is_causal`, `key_padding_mask`, the dropout of the attention
    /// weights), giving the output `[B, L, EMBED]` and the attention weights of each head `[B, HEADS,
    /// L, S]`, whose mean over the heads ([`AttentionOutput::averaged_weights`]) is PyTorch's
    /// `need_weights=True, average_attn_weights=True`.
    ///
    /// With the attention weights `P = softmax(q k^T / sqrt(HEAD_DIM))` of each head, where a key
    /// that the mask marks (or, with `causal`, a key after the query) gets weight exactly 0 (PyTorch
    /// adds `-inf` to its score), and `D(P)` the dropout of `P` in training: the heads' `D(P) v`,
    /// joined and projected by `out_proj`. The weights given back are `D(P)`, as PyTorch's (after the
    /// dropout). The derivative is that of the composition (see
    /// [`scaled_dot_product_attention`]); a left-out key receives no gradient.
    ///
    /// Edge values: a query whose keys are all left out (a batch whose keys are all padding) has
    /// NaN weights and a NaN output, as PyTorch's `need_weights=True`; PyTorch's
    /// `need_weights=False` path gives zeros there instead.
    ///
    /// # Panics
    /// When run-time sizes differ: the batch of the three inputs, the lengths of `key` and `value`,
    /// or the key padding mask's sizes and the batch or the keys' length (the message names both).
    ///
    /// ```
    /// use shaped::nn::{AttentionOptions, Dropout, MultiheadAttention};
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// use shaped::{Const, Mask, Module, Rank3, Tensor};
    ///
    /// let mha: MultiheadAttention<4, 2, 2, f64> = MultiheadAttention::new(&mut StdRng::seed_from_u64(0));
    /// let q: Tensor<Rank3<1, 2, 4>, f64> = Tensor::from_fn(|[_, i, j]| (i + j) as f64 / 4.0);
    /// let kv: Tensor<Rank3<1, 3, 4>, f64> = Tensor::from_fn(|[_, i, j]| (i * j) as f64 / 4.0);
    /// // Ignore the last key (true means "ignore", as in PyTorch).
    /// let mask = Mask::from_vec_with((Const::<1>, Const::<3>), vec![false, false, true]).unwrap();
    /// let options = AttentionOptions { key_padding_mask: Some(&mask), ..AttentionOptions::default() };
    /// let a = mha.attend(&q, &kv, &kv, &options);
    /// assert_eq!(a.output.shape(), [1, 2, 4]);
    /// assert_eq!(a.weights.shape(), [1, 2, 2, 3]); // [B, HEADS, L, S]
    /// let w = a.averaged_weights(); // [B, L, S], the mean over the heads
    /// for row in w.as_slice().chunks(3) {
    ///     assert_eq!(row[2], 0.0);
    ///     assert!((row[0] + row[1] - 1.0).abs() < 1e-12);
    /// }
    ///
    /// // A dropout of the attention weights, off in evaluation.
    /// let mut drop: Dropout<f64> = Dropout::new(0.5, 7);
    /// drop.eval();
    /// let options = AttentionOptions { dropout: Some(&drop), ..AttentionOptions::default() };
    /// assert_eq!(mha.attend(&q, &kv, &kv, &options).output, mha.forward(&q, &kv, &kv, false));
    /// ```
    #[must_use]
    #[track_caller]
    #[allow(clippy::type_complexity)] // the output's shapes and tracking, spelled out
    pub fn attend<QS, KS, X>(
        &self,
        query: &Tensor<QS, E, X>,
        key: &Tensor<KS, E, X>,
        value: &Tensor<KS, E, X>,
        options: &AttentionOptions<'_, QS::B, KS::L, E>,
    ) -> AttentionOutput<QS::B, QS::L, KS::L, EMBED, HEADS, E, Merged<E, X, T>>
    where
        QS: Sequence<EMBED>,
        KS: Sequence<EMBED, B = QS::B>,
        X: Tracking<E> + Merge<E, T>,
        Merged<E, X, T>:
            Merge<E, T, Output = Merged<E, X, T>> + Merge<E, NoTape, Output = Merged<E, X, T>>,
    {
        let (qs, ks, vs) = (
            query.typed_shape().sequence(),
            key.typed_shape().sequence(),
            value.typed_shape().sequence(),
        );
        let (b, l, s) = (qs.0.size(), qs.1.size(), ks.1.size());
        let op = "MultiheadAttention";
        check_same(
            op,
            "the batches of the queries and the keys",
            b,
            ks.0.size(),
        );
        check_same(
            op,
            "the batches of the queries and the values",
            b,
            vs.0.size(),
        );
        check_same(op, "the lengths of the keys and the values", s, vs.1.size());
        let padding = options.key_padding_mask.map(|mask| {
            let [mb, ms] = mask.shape();
            check_same(
                op,
                "the batches of the queries and the key padding mask",
                b,
                mb,
            );
            check_same(
                op,
                "the lengths of the keys and the key padding mask",
                s,
                ms,
            );
            // The scores are [B, HEADS, L, S]: HEADS L rows to a batch.
            (mask.as_slice(), HEADS * l)
        });
        // Inside, the batch and the lengths are run-time sizes: one compiled body for all of them.
        let heads = |x: Tensor<(usize, usize, Const<EMBED>), E, Merged<E, X, T>>, len: usize| {
            x.reshape_to((b, len, Const::<HEADS>, Const::<HEAD_DIM>))
                .permute::<Axes4<0, 2, 1, 3>>()
        };
        let (w, bias) = (&self.in_proj_weight, &self.in_proj_bias);
        let qh = heads(project(&query.reshape_to((b, l, Const)), w, bias, 0), l);
        let kh = heads(project(&key.reshape_to((b, s, Const)), w, bias, 1), s);
        let vh = heads(project(&value.reshape_to((b, s, Const)), w, bias, 2), s);
        let masking = Masking {
            causal: options.causal,
            padding,
        };
        let mut p = attention_weights(&qh, &kh, masking, op);
        if let Some(dropout) = options.dropout {
            p = dropout.forward(p);
        }
        let y = p
            .matmul_in(op, &vh)
            .permute::<Axes4<0, 2, 1, 3>>()
            .reshape_to((qs.0, qs.1, Const::<EMBED>));
        AttentionOutput {
            output: self.out_proj.forward(y),
            weights: p.reshape_to((qs.0, Const, qs.1, ks.1)),
        }
    }
}

/// The options of [`MultiheadAttention::attend`], PyTorch's arguments of `nn.MultiheadAttention`
/// beyond the inputs, for a batch `B` of queries over keys of length `S`. The default is none of
/// them, [`MultiheadAttention::forward`]'s attention.
///
/// PyTorch's `nn.MultiheadAttention(EMBED, HEADS, dropout=p)` holds its dropout and follows the
/// module's `train()` and `eval()`; here the dropout is a [`Dropout`] layer that the model holds
/// beside the attention (so that [`Module::train`] and [`Module::eval`] switch it, and its seed makes
/// the masks reproducible), lent to each call.
///
/// ```
/// use shaped::nn::{AttentionOptions, Dropout};
/// use shaped::{Const, Mask};
///
/// let mask = Mask::from_vec_with((2_usize, 3_usize), vec![false, false, true, false, true, true]).unwrap();
/// let drop: Dropout<f64> = Dropout::new(0.1, 0);
/// let options = AttentionOptions { causal: true, key_padding_mask: Some(&mask), dropout: Some(&drop) };
/// assert!(options.causal);
/// let none: AttentionOptions<'_, Const<2>, Const<3>, f64> = AttentionOptions::default();
/// assert!(none.key_padding_mask.is_none() && none.dropout.is_none());
/// ```
#[derive(Debug)]
pub struct AttentionOptions<'a, B: Dim, S: Dim, E: Element = f32> {
    /// Each query attends to the keys at and before its position only (PyTorch's `is_causal=True`
    /// with the causal `attn_mask`, aligned at the top left).
    pub causal: bool,
    /// PyTorch's `key_padding_mask` of booleans `[B, S]`: `true` marks a key to ignore (its weight is
    /// 0 for every query of that batch).
    pub key_padding_mask: Option<&'a Mask<(B, S)>>,
    /// The dropout of the attention weights (PyTorch's `dropout=p`), applied when it is in training.
    pub dropout: Option<&'a Dropout<E>>,
}

impl<B: Dim, S: Dim, E: Element> Default for AttentionOptions<'_, B, S, E> {
    fn default() -> Self {
        Self {
            causal: false,
            key_padding_mask: None,
            dropout: None,
        }
    }
}

/// What [`MultiheadAttention::attend`] gives: the output `[B, L, EMBED]` and the attention weights
/// of each head `[B, HEADS, L, S]` (after the dropout, as PyTorch's), both on the tape of the inputs.
///
/// ```
/// use shaped::nn::{AttentionOptions, MultiheadAttention};
/// use shaped::{Rank3, Tensor};
/// let mha: MultiheadAttention<4, 2, 2, f64> = MultiheadAttention::zeros();
/// let x: Tensor<Rank3<1, 3, 4>, f64> = Tensor::ones();
/// let causal = AttentionOptions { causal: true, ..AttentionOptions::default() };
/// let a = mha.attend(&x, &x, &x, &causal);
/// assert_eq!(a.output.shape(), [1, 3, 4]);
/// // equal scores: query i spreads its weight over keys 0..=i, in each of the 2 heads
/// assert_eq!(a.weights.shape(), [1, 2, 3, 3]);
/// assert_eq!(a.weights[[0, 1, 2, 0]], 1.0 / 3.0);
/// assert_eq!(a.weights[[0, 0, 1, 1]], 0.5);
/// assert_eq!(a.weights[[0, 0, 0, 2]], 0.0);
/// ```
#[derive(Clone, Debug)]
pub struct AttentionOutput<
    B: Dim,
    L: Dim,
    S: Dim,
    const EMBED: usize,
    const HEADS: usize,
    E: Element,
    T: Tracking<E>,
> {
    /// The attention output, PyTorch's `attn_output`.
    pub output: Tensor<(B, L, Const<EMBED>), E, T>,
    /// The attention weights of each head, PyTorch's `attn_output_weights` with
    /// `average_attn_weights=False`.
    pub weights: Tensor<(B, Const<HEADS>, L, S), E, T>,
}

impl<B: Dim, L: Dim, S: Dim, const EMBED: usize, const HEADS: usize, E: Element, T: Tracking<E>>
    AttentionOutput<B, L, S, EMBED, HEADS, E, T>
{
    /// The attention weights averaged over the heads, `[B, L, S]`: PyTorch's
    /// `attn_output_weights` with `need_weights=True, average_attn_weights=True` (the default).
    ///
    /// ```
    /// use shaped::nn::{AttentionOptions, MultiheadAttention};
    /// use shaped::{Rank3, Tensor};
    /// let mha: MultiheadAttention<4, 2, 2, f64> = MultiheadAttention::zeros();
    /// let x: Tensor<Rank3<1, 2, 4>, f64> = Tensor::ones();
    /// let a = mha.attend(&x, &x, &x, &AttentionOptions::default());
    /// // Zero weights give equal scores: every key weighs 1 / 2 in every head.
    /// assert_eq!(a.averaged_weights().to_vec(), vec![0.5; 4]);
    /// ```
    #[must_use]
    pub fn averaged_weights(&self) -> Tensor<(B, L, S), E, T> {
        self.weights.mean_axis::<1>()
    }
}

/// A batch of sequences of `EMBED` features, `[B, L, EMBED]`: a static `Rank3<B, L, EMBED>` or a
/// tuple `(B, L, Const<EMBED>)` of static or run-time `B` and `L`.
///
/// ```
/// use shaped::nn::Sequence;
/// use shaped::{Const, Dim, Rank3, Shape};
/// // a helper generic over static and run-time batches of sequences
/// fn batch_and_length<S: Sequence<8>>(s: S) -> (usize, usize) {
///     let d = s.dims();
///     (d.as_ref()[0], d.as_ref()[1])
/// }
/// assert_eq!(batch_and_length(Rank3::<2, 5, 8>), (2, 5));
/// assert_eq!(batch_and_length((3_usize, 7_usize, Const::<8>)), (3, 7));
/// assert_eq!(<<Rank3<2, 5, 8> as Sequence<8>>::B as Dim>::STATIC, Some(2));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a batch of sequences of {EMBED} features `[B, L, {EMBED}]`",
    label = "multi-head attention takes `[batch, length, embed]`"
)]
pub trait Sequence<const EMBED: usize>: Shape {
    /// The batch dimension.
    type B: Dim;
    /// The length dimension.
    type L: Dim;
    /// The shape as a tuple.
    #[doc(hidden)]
    fn sequence(&self) -> (Self::B, Self::L, Const<EMBED>);
}

#[diagnostic::do_not_recommend]
impl<const B: usize, const L: usize, const EMBED: usize> Sequence<EMBED> for Rank3<B, L, EMBED> {
    type B = Const<B>;
    type L = Const<L>;
    fn sequence(&self) -> (Const<B>, Const<L>, Const<EMBED>) {
        (Const, Const, Const)
    }
}

#[diagnostic::do_not_recommend]
impl<B: Dim, L: Dim, const EMBED: usize> Sequence<EMBED> for (B, L, Const<EMBED>) {
    type B = B;
    type L = L;
    fn sequence(&self) -> (B, L, Const<EMBED>) {
        *self
    }
}

impl<const EMBED: usize, const HEADS: usize, const HEAD_DIM: usize, E: Element> Module
    for MultiheadAttention<EMBED, HEADS, HEAD_DIM, E>
{
    type Elem = E;
    type Grads = MultiheadAttentionGrads<EMBED, HEADS, HEAD_DIM, E>;
    type HoldsParams = crate::module::Yes;

    fn visit(&self, path: &mut String, f: &mut Visit<'_, E>) {
        visit_in_proj(&self.in_proj_weight, &self.in_proj_bias, path, f);
        in_field(path, "out_proj", |path| self.out_proj.visit(path, f));
    }

    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, E>) {
        visit_in_proj_mut(&mut self.in_proj_weight, &mut self.in_proj_bias, path, f);
        in_field(path, "out_proj", |path| self.out_proj.visit_mut(path, f));
    }

    fn zip_mut(&mut self, other: &Self::Grads, f: &mut ZipMut<'_, E>) {
        self.in_proj_weight.zip_mut(&other.in_proj_weight, f);
        self.in_proj_bias.zip_mut(&other.in_proj_bias, f);
        self.out_proj.zip_mut(&other.out_proj, f);
    }

    fn read_grads(&self, grads: &Grads<E>, trained: bool) -> Self::Grads {
        let (w, b) = (&self.in_proj_weight, &self.in_proj_bias);
        read_fields(w, b, &self.out_proj, grads, trained)
    }

    fn unused_into(
        &self,
        grads: &Grads<E>,
        trained: bool,
        path: &mut String,
        out: &mut Vec<String>,
    ) {
        in_field(path, "in_proj_weight", |path| {
            self.in_proj_weight.unused_into(grads, trained, path, out);
        });
        in_field(path, "in_proj_bias", |path| {
            self.in_proj_bias.unused_into(grads, trained, path, out);
        });
        in_field(path, "out_proj", |path| {
            self.out_proj.unused_into(grads, trained, path, out);
        });
    }

    fn zeros_like(&self) -> Self::Grads {
        zeros_fields(&self.out_proj)
    }
}

impl<const EMBED: usize, const HEADS: usize, const HEAD_DIM: usize, E: Element> Trainable
    for MultiheadAttention<EMBED, HEADS, HEAD_DIM, E>
{
    type Tracked = MultiheadAttention<EMBED, HEADS, HEAD_DIM, E, Tape<E>>;

    fn track(&self, tape: &Tape<E>) -> Self::Tracked {
        MultiheadAttention {
            in_proj_weight: self.in_proj_weight.track(tape),
            in_proj_bias: self.in_proj_bias.track(tape),
            out_proj: self.out_proj.track(tape),
        }
    }
}

impl<const EMBED: usize, const HEADS: usize, const HEAD_DIM: usize, E: Element> Module
    for MultiheadAttentionGrads<EMBED, HEADS, HEAD_DIM, E>
{
    type Elem = E;
    type Grads = Self;
    type HoldsParams = crate::module::Yes;

    fn visit(&self, path: &mut String, f: &mut Visit<'_, E>) {
        visit_in_proj(&self.in_proj_weight, &self.in_proj_bias, path, f);
        in_field(path, "out_proj", |path| self.out_proj.visit(path, f));
    }

    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, E>) {
        visit_in_proj_mut(&mut self.in_proj_weight, &mut self.in_proj_bias, path, f);
        in_field(path, "out_proj", |path| self.out_proj.visit_mut(path, f));
    }

    fn zip_mut(&mut self, other: &Self, f: &mut ZipMut<'_, E>) {
        self.in_proj_weight.zip_mut(&other.in_proj_weight, f);
        self.in_proj_bias.zip_mut(&other.in_proj_bias, f);
        self.out_proj.zip_mut(&other.out_proj, f);
    }

    fn read_grads(&self, grads: &Grads<E>, _: bool) -> Self {
        let (w, b) = (&self.in_proj_weight, &self.in_proj_bias);
        read_fields(w, b, &self.out_proj, grads, false)
    }

    fn unused_into(&self, _: &Grads<E>, _: bool, _: &mut String, _: &mut Vec<String>) {}

    fn zeros_like(&self) -> Self {
        zeros_fields(&self.out_proj)
    }
}

/// Runs `f` with the field `name` appended to the path.
fn in_field(path: &mut String, name: &str, f: impl FnOnce(&mut String)) {
    let len = push_segment(path, name);
    f(path);
    path.truncate(len);
}

/// The gradients of a layer's fields (or of its gradients', of the same types), read from `grads`.
fn read_fields<const EMBED: usize, const HEADS: usize, const HEAD_DIM: usize, E: Element>(
    w: &Tensor<Rank3<3, EMBED, EMBED>, E>,
    b: &Tensor<Rank2<3, EMBED>, E>,
    out_proj: &impl Module<Elem = E, Grads = LinearGrads<EMBED, EMBED, E>>,
    grads: &Grads<E>,
    trained: bool,
) -> MultiheadAttentionGrads<EMBED, HEADS, HEAD_DIM, E> {
    MultiheadAttentionGrads {
        in_proj_weight: w.read_grads(grads, trained),
        in_proj_bias: b.read_grads(grads, trained),
        out_proj: out_proj.read_grads(grads, trained),
    }
}

/// Gradients of zeros for a layer whose output projection is `out_proj` (or its gradients).
fn zeros_fields<const EMBED: usize, const HEADS: usize, const HEAD_DIM: usize, E: Element>(
    out_proj: &impl Module<Elem = E, Grads = LinearGrads<EMBED, EMBED, E>>,
) -> MultiheadAttentionGrads<EMBED, HEADS, HEAD_DIM, E> {
    MultiheadAttentionGrads {
        in_proj_weight: Tensor::zeros(),
        in_proj_bias: Tensor::zeros(),
        out_proj: out_proj.zeros_like(),
    }
}

/// Visits the input projection under PyTorch's names and shapes (`[3 EMBED, EMBED]`, `[3 EMBED]`).
fn visit_in_proj<const EMBED: usize, E: Element>(
    w: &Tensor<Rank3<3, EMBED, EMBED>, E>,
    b: &Tensor<Rank2<3, EMBED>, E>,
    path: &mut String,
    f: &mut Visit<'_, E>,
) {
    in_field(path, "in_proj_weight", |p| {
        f(p, w.as_slice(), &[3 * EMBED, EMBED]);
    });
    in_field(path, "in_proj_bias", |p| f(p, b.as_slice(), &[3 * EMBED]));
}

/// [`visit_in_proj`], mutable.
fn visit_in_proj_mut<const EMBED: usize, E: Element>(
    w: &mut Tensor<Rank3<3, EMBED, EMBED>, E>,
    b: &mut Tensor<Rank2<3, EMBED>, E>,
    path: &mut String,
    f: &mut VisitMut<'_, E>,
) {
    in_field(path, "in_proj_weight", |p| {
        f(p, w.as_mut_slice(), &[3 * EMBED, EMBED]);
    });
    in_field(path, "in_proj_bias", |p| {
        f(p, b.as_mut_slice(), &[3 * EMBED]);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::random;
    use crate::{Rank4, gradcheck};

    #[test]
    fn softmax_gradient_literal() {
        // y = softmax([0, 0]) = [1/2, 1/2]; f = sum(y * [1, 3]) = 2:
        // dx = y (v - sum(v y)) = [1/2 (1 - 2), 1/2 (3 - 2)] = [-1/2, 1/2].
        // Causal, row 0 keeps column 0 only: y = [1, 0], and dx = [1 (1 - 1), 0] = [0, 0].
        let x: Tensor<Rank2<2, 2>, f64> = Tensor::zeros();
        let v = Tensor::from([[1.0, 3.0], [1.0, 3.0]]);
        for (causal, want_y, want_dx) in [
            (false, [[0.5, 0.5], [0.5, 0.5]], [[-0.5, 0.5], [-0.5, 0.5]]),
            (true, [[1.0, 0.0], [0.5, 0.5]], [[0.0, 0.0], [-0.5, 0.5]]),
        ] {
            let tape = Tape::new();
            let xt = tape.watch(&x);
            let y = softmax_last(
                &xt,
                Masking {
                    causal,
                    padding: None,
                },
            );
            assert_eq!(y.to_array(), want_y);
            assert_eq!((y * &v).sum().backward().get(&xt).to_array(), want_dx);
        }
    }

    #[test]
    fn softmax_with_padded_keys_gradient_literal() {
        // Key 1 padded: y = softmax over keys 0 and 2 = [1/2, 0, 1/2]; f = sum(y * [1, 5, 3]) = 2:
        // dx = y (v - sum(v y)) = [1/2 (1 - 2), 0, 1/2 (3 - 2)] = [-1/2, 0, 1/2]. The second batch
        // pads every key: its row is NaN, as PyTorch's softmax of scores that are all -inf.
        let x: Tensor<Rank3<2, 1, 3>, f64> = Tensor::zeros();
        let mask = [false, true, false, true, true, true];
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let masking = Masking {
            causal: false,
            padding: Some((&mask, 1)),
        };
        let y = softmax_last(&xt, masking);
        assert_eq!(y.to_array()[0], [[0.5, 0.0, 0.5]]);
        assert!(y.to_array()[1][0].iter().all(|v| v.is_nan()));
        let v = Tensor::from([[[1.0, 5.0, 3.0]], [[0.0; 3]]]);
        let dx = (y * &v).sum().backward().get(&xt).to_array();
        assert_eq!(dx[0], [[-0.5, 0.0, 0.5]]);
    }

    /// A `MultiheadAttention<4, 2, 2>` on `tape` with the random parameters `w, b, ow, ob`.
    fn tracked_mha(
        w: &Tensor<Rank3<3, 4, 4>, f64, Tape<f64>>,
        b: &Tensor<Rank2<3, 4>, f64, Tape<f64>>,
        ow: &Tensor<Rank2<4, 4>, f64, Tape<f64>>,
        ob: &Tensor<crate::Rank1<4>, f64, Tape<f64>>,
    ) -> MultiheadAttention<4, 2, 2, f64, Tape<f64>> {
        MultiheadAttention {
            in_proj_weight: w.clone(),
            in_proj_bias: b.clone(),
            out_proj: Linear {
                weight: ow.clone(),
                bias: Some(ob.clone()),
            },
        }
    }

    #[test]
    fn key_padding_mask_and_weights_gradients_match_finite_differences() {
        let q: Tensor<Rank3<2, 3, 4>, f64> = random(20);
        let kv: Tensor<Rank3<2, 4, 4>, f64> = random(21);
        let up: Tensor<(Const<2>, Const<3>, Const<4>), f64> =
            random::<Rank3<2, 3, 4>>(22).into_dims();
        let up_w: Tensor<(Const<2>, Const<3>, Const<4>), f64> =
            random::<Rank3<2, 3, 4>>(23).into_dims();
        let mask = Mask::from_vec_with(
            (Const::<2>, Const::<4>),
            // key 0 is never padded: with `causal`, query 0 sees it alone
            vec![false, true, false, false, false, false, true, true],
        )
        .unwrap();
        let params = (
            &random::<Rank3<3, 4, 4>>(24),
            &random::<Rank2<3, 4>>(25),
            &random::<Rank2<4, 4>>(26),
            &random::<crate::Rank1<4>>(27),
        );
        for causal in [false, true] {
            let options = AttentionOptions {
                causal,
                key_padding_mask: Some(&mask),
                dropout: None,
            };
            gradcheck(
                |(w, b, ow, ob)| {
                    let a = tracked_mha(&w, &b, &ow, &ob).attend(&q, &kv, &kv, &options);
                    (a.averaged_weights() * &up_w).sum() + (a.output * &up).sum()
                },
                params,
            )
            .unwrap();
        }
        // The inputs' gradients, the query used as key and value too.
        let x: Tensor<Rank3<2, 4, 4>, f64> = random(28);
        let (w, b, ow, ob) = params;
        let mha: MultiheadAttention<4, 2, 2, f64> = MultiheadAttention::from_weights(
            w.clone(),
            b.clone(),
            Linear::from_weights(ow.clone(), Some(ob.clone())),
        );
        let options = AttentionOptions {
            key_padding_mask: Some(&mask),
            ..AttentionOptions::default()
        };
        gradcheck(
            |x| {
                let a = mha.attend(&x, &x, &x, &options);
                (a.weights * 3.0).sum() + a.output.sum()
            },
            &x,
        )
        .unwrap();
    }

    #[test]
    fn padded_keys_weigh_nothing_and_a_fully_padded_batch_is_nan() {
        let mha: MultiheadAttention<4, 2, 2, f64> =
            MultiheadAttention::new(&mut crate::ops::testing::rng(3));
        let q: Tensor<(usize, usize, Const<4>), f64> =
            Tensor::from_vec_with((2, 2, Const), random::<Rank3<2, 2, 4>>(30).to_vec()).unwrap();
        let kv: Tensor<(usize, usize, Const<4>), f64> =
            Tensor::from_vec_with((2, 3, Const), random::<Rank3<2, 3, 4>>(31).to_vec()).unwrap();
        let mask = Mask::from_vec_with((2, 3), vec![false, true, false, true, true, true]).unwrap();
        let options = AttentionOptions {
            key_padding_mask: Some(&mask),
            ..AttentionOptions::default()
        };
        let a = mha.attend(&q, &kv, &kv, &options);
        let w = a.weights.to_vec();
        // Batch 0: key 1 weighs 0 in both heads and both queries; each row sums to 1.
        for row in w[..12].chunks(3) {
            assert_eq!(row[1], 0.0);
            assert!((row[0] + row[2] - 1.0).abs() < 1e-12);
        }
        // Batch 1: no key left, NaN weights and output.
        assert!(w[12..].iter().all(|v| v.is_nan()));
        assert!(a.output.to_vec()[8..].iter().all(|v| v.is_nan()));
        // The mean of the two heads.
        let avg = a.averaged_weights().to_vec();
        for (i, v) in avg[..6].iter().enumerate() {
            let (l, k) = (i / 3, i % 3);
            assert!((v - f64::midpoint(w[l * 3 + k], w[6 + l * 3 + k])).abs() < 1e-15);
        }
        // Masking the keys is removing them: batch 0 with keys 0 and 2 only.
        let kv_vec = kv.to_vec();
        let kept: Vec<f64> = [&kv_vec[..4], &kv_vec[8..12]].concat();
        let kv0: Tensor<Rank3<1, 2, 4>, f64> = Tensor::from_vec(kept).unwrap();
        let q0: Tensor<Rank3<1, 2, 4>, f64> = Tensor::from_vec(q.to_vec()[..8].to_vec()).unwrap();
        let want = mha.forward(&q0, &kv0, &kv0, false).to_vec();
        for (g, w) in a.output.to_vec()[..8].iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{g} and {w}");
        }
    }

    #[test]
    fn dropout_of_the_weights_p_zero_eval_and_training() {
        let mha: MultiheadAttention<4, 2, 2, f64> =
            MultiheadAttention::new(&mut crate::ops::testing::rng(4));
        let x: Tensor<Rank3<2, 5, 4>, f64> = random(40);
        let plain = mha.attend(&x, &x, &x, &AttentionOptions::default());
        let with = |drop: &Dropout<f64>| {
            let options = AttentionOptions {
                dropout: Some(drop),
                ..AttentionOptions::default()
            };
            mha.attend(&x, &x, &x, &options)
        };
        // p = 0 is no dropout, exactly; so is a dropout in evaluation, every time.
        let zero = with(&Dropout::new(0.0, 1));
        assert_eq!(zero.output, plain.output);
        assert_eq!(zero.weights, plain.weights);
        let mut drop = Dropout::new(0.5, 2);
        drop.eval();
        for _ in 0..2 {
            let eval = with(&drop);
            assert_eq!(eval.output, plain.output);
            assert_eq!(eval.weights, plain.weights);
        }
        // In training, each weight is dropped or doubled (1 / (1 - p)); the masks follow the seed.
        drop.train();
        let first = with(&drop);
        let second = with(&drop);
        let (w, p) = (first.weights.to_vec(), plain.weights.to_vec());
        assert!(w.iter().zip(&p).all(|(&w, &p)| w == 0.0 || w == 2.0 * p));
        let dropped = w.iter().filter(|&&v| v == 0.0).count();
        // 100 draws of probability 1/2: 50 expected, standard deviation 5.
        assert!((30..70).contains(&dropped), "{dropped} dropped");
        assert_ne!(first.weights, second.weights);
        assert_eq!(with(&Dropout::new(0.5, 2)).weights, first.weights);
        assert_ne!(first.output, plain.output);
    }

    #[test]
    fn gradient_through_dropped_weights_matches_finite_differences() {
        // Each evaluation reseeds the dropout, so that every one sees the same mask.
        let x: Tensor<Rank3<1, 3, 4>, f64> = random(50);
        let up: Tensor<(Const<1>, Const<3>, Const<4>), f64> =
            random::<Rank3<1, 3, 4>>(51).into_dims();
        let params = (
            &random::<Rank3<3, 4, 4>>(52),
            &random::<Rank2<3, 4>>(53),
            &random::<Rank2<4, 4>>(54),
            &random::<crate::Rank1<4>>(55),
        );
        gradcheck(
            |(w, b, ow, ob)| {
                let drop = Dropout::new(0.3, 9);
                let options = AttentionOptions {
                    dropout: Some(&drop),
                    ..AttentionOptions::default()
                };
                let a = tracked_mha(&w, &b, &ow, &ob).attend(&x, &x, &x, &options);
                (a.output * &up).sum()
            },
            params,
        )
        .unwrap();
    }

    #[test]
    #[should_panic(
        expected = "MultiheadAttention: the lengths of the keys and the key padding mask differ: 3 and 2"
    )]
    fn a_key_padding_mask_of_another_length_panics() {
        let mha: MultiheadAttention<4, 2, 2, f64> = MultiheadAttention::zeros();
        let x: Tensor<(usize, usize, Const<4>), f64> = Tensor::zeros_with((1, 3, Const));
        let mask = Mask::from_vec_with((1, 2), vec![false, true]).unwrap();
        let options = AttentionOptions {
            key_padding_mask: Some(&mask),
            ..AttentionOptions::default()
        };
        let _ = mha.attend(&x, &x, &x, &options);
    }

    #[test]
    fn attention_gradients_match_finite_differences() {
        let (q, k, v): (
            Tensor<Rank3<2, 3, 4>, f64>,
            Tensor<Rank3<2, 5, 4>, f64>,
            Tensor<Rank3<2, 5, 2>, f64>,
        ) = (random(1), random(2), random(3));
        let up: Tensor<Rank3<2, 3, 2>, f64> = random(4);
        for causal in [false, true] {
            gradcheck(
                |(q, k, v)| (scaled_dot_product_attention(&q, &k, &v, causal) * &up).sum(),
                (&q, &k, &v),
            )
            .unwrap();
        }
        // q, k and v one tensor: self-attention without projections.
        gradcheck(
            |x| (scaled_dot_product_attention(&x, &x, &x, true) * &q).sum(),
            &random::<Rank3<2, 3, 4>>(5),
        )
        .unwrap();
    }

    #[test]
    fn multihead_attention_gradients_match_finite_differences() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(6);
        let up: Tensor<Rank3<2, 3, 4>, f64> = random(7);
        let w: Tensor<Rank3<3, 4, 4>, f64> = random(8);
        let b: Tensor<Rank2<3, 4>, f64> = random(9);
        let ow: Tensor<Rank2<4, 4>, f64> = random(10);
        let ob: Tensor<crate::Rank1<4>, f64> = random(11);
        gradcheck(
            |(w, b, ow, ob)| {
                let mha: MultiheadAttention<4, 2, 2, f64, Tape<f64>> = MultiheadAttention {
                    in_proj_weight: w.clone(),
                    in_proj_bias: b.clone(),
                    out_proj: Linear {
                        weight: ow.clone(),
                        bias: Some(ob.clone()),
                    },
                };
                (mha.forward(&x, &x, &x, true) * &up.clone().into_dims()).sum()
            },
            (&w, &b, &ow, &ob),
        )
        .unwrap();
    }

    #[test]
    fn a_run_time_batch_and_length_give_the_static_values() {
        let mha: MultiheadAttention<4, 2, 2, f64> =
            MultiheadAttention::new(&mut crate::ops::testing::rng(1));
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(12);
        let fixed = mha.forward(&x, &x, &x, false);
        let rows: Tensor<(usize, usize, Const<4>), f64> =
            Tensor::from_vec_with((2, 3, Const), x.to_vec()).unwrap();
        let dynamic = mha.forward(&rows, &rows, &rows, false);
        assert_eq!(dynamic.shape(), [2, 3, 4]);
        assert_eq!(fixed.as_slice(), dynamic.as_slice());
        let _ = random::<Rank4<1, 1, 1, 1>>(0);
    }

    #[test]
    #[should_panic(
        expected = "MultiheadAttention: the lengths of the keys and the values differ: 3 and 2"
    )]
    fn keys_and_values_of_other_lengths_panic() {
        let mha: MultiheadAttention<4, 2, 2, f64> = MultiheadAttention::zeros();
        let q: Tensor<(usize, usize, Const<4>), f64> = Tensor::zeros_with((1, 3, Const));
        let v: Tensor<(usize, usize, Const<4>), f64> = Tensor::zeros_with((1, 2, Const));
        let _ = mha.forward(&q, &q, &v, false);
    }
}
