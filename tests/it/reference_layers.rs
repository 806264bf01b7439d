//! The layers against PyTorch with the same weights: `Embedding` (with and without a padding id),
//! `LayerNorm` (with and without parameters), `BatchNorm1d` on `[B, C]` and `[B, C, L]` (in
//! training, with its running statistics, and in evaluation), `scaled_dot_product_attention` and
//! `MultiheadAttention`; the output and the gradients of `sum(out * up)` with respect to the input
//! and every parameter, on static shapes and on run-time dimensions, with NaN and infinities among
//! the inputs; `Dropout` in float32, bit for bit for PyTorch's mask and by property for its draws.
//! The reference values are written by `scripts/reference_layers.py` (PyTorch) to
//! `tests/data/reference/layers.txt`.

use std::collections::HashMap;

use crate::reference::{Case, load};
use shaped::nn::{
    BatchNorm1d, BatchNormShape, Dropout, Embedding, LayerNorm, LayerNormNoAffine, Linear,
    MultiheadAttention, dropout_with_mask, scaled_dot_product_attention,
};
use shaped::{Const, Indices, Module, Rank1, Rank2, Rank3, Rank4, Shape, Tape, Tensor};

/// The layers reduce (means, variances, softmax sums) and PyTorch's kernels sum in another order:
/// in float64 the results agree to a few units in the 14th digit; gradients of normalized values
/// subtract means of similar size, which costs up to two more digits.
const RTOL: f64 = 1e-10;

fn cases() -> HashMap<String, Case> {
    load("layers")
}

/// The layer's output and the gradient of its table on the case's ids, a run-time count of them.
fn embedding_case(c: &Case, layer: &Embedding<5, 3, f64>) -> Indices<usize, Const<5>> {
    let ids: Vec<usize> = c.ints("ids").1.iter().map(|&i| i as usize).collect();
    let ids = Indices::<usize, Const<5>>::from_slice(&ids).unwrap();
    let tape = Tape::new();
    let t = tape.watch(layer);
    let y = t.forward(&ids);
    c.check_out(&y, RTOL);
    let grads = (y * &c.up::<(usize, Const<3>)>()).sum().backward();
    c.check_grad("weight", &grads, &t.weight, RTOL);
    ids
}

#[test]
fn embedding() {
    let c = &cases()["embedding_repeated_ids"];
    let layer: Embedding<5, 3, f64> = Embedding::from_weights(c.input("weight"));
    embedding_case(c, &layer);
    assert_eq!(layer.params()[0].name, "weight");
}

#[test]
fn embedding_with_a_padding_id() {
    let c = &cases()["embedding_padding_idx"];
    let layer: Embedding<5, 3, f64> =
        Embedding::from_weights(c.input("weight")).with_padding_idx(1);
    let ids = embedding_case(c, &layer);
    // A static count: the same values.
    let fixed = Indices::<Const<6>, Const<5>>::from_slice(ids.as_slice()).unwrap();
    c.check_out(&layer.forward(&fixed), RTOL);
}

/// A LayerNorm of width 4 on the case's input of shape `S`.
fn layer_norm<S: shaped::NonScalar<Last = Const<4>>>(c: &Case, eps: f64) {
    let layer: LayerNorm<4, f64> =
        LayerNorm::from_weights(c.input("weight"), c.input("bias")).with_eps(eps);
    let x = c.input::<S>("x");
    let tape = Tape::new();
    let (t, xt) = (tape.watch(&layer), tape.watch(&x));
    let y = t.forward(xt.clone());
    c.check_out(&y, RTOL);
    let grads = (y * &c.up::<S>()).sum().backward();
    c.check_grad("x", &grads, &xt, RTOL);
    c.check_grad("weight", &grads, &t.weight, RTOL);
    c.check_grad("bias", &grads, &t.bias, RTOL);
}

#[test]
fn layer_norm_on_static_and_run_time_shapes() {
    let c = cases();
    layer_norm::<Rank3<2, 3, 4>>(&c["layer_norm_rank3"], 1e-5);
    layer_norm::<(usize, Const<4>)>(&c["layer_norm_runtime_rows"], 1e-5);
    layer_norm::<Rank2<3, 4>>(&c["layer_norm_edge_values"], 1e-5);
    layer_norm::<Rank2<2, 4>>(&c["layer_norm_eps_0_5"], 0.5);
}

/// A LayerNorm of width 4 without parameters on the case's input of shape `S`.
fn layer_norm_without_affine<S: shaped::NonScalar<Last = Const<4>>>(c: &Case) {
    let layer: LayerNormNoAffine<4, f64> = LayerNormNoAffine::new();
    assert!(layer.params().is_empty());
    let x = c.input::<S>("x");
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let y = layer.forward(xt.clone());
    c.check_out(&y, RTOL);
    let grads = (y * &c.up::<S>()).sum().backward();
    c.check_grad("x", &grads, &xt, RTOL);
}

#[test]
fn layer_norm_without_affine_on_static_and_run_time_shapes() {
    let c = cases();
    layer_norm_without_affine::<(usize, Const<3>, Const<4>)>(&c["layer_norm_no_affine_rank3"]);
    layer_norm_without_affine::<Rank3<2, 3, 4>>(&c["layer_norm_no_affine_rank3"]);
    layer_norm_without_affine::<(usize, Const<4>)>(&c["layer_norm_no_affine_edge_values"]);
}

fn batch_norm(c: &Case) -> BatchNorm1d<3, f64> {
    BatchNorm1d::from_weights(c.input("weight"), c.input("bias")).with_running_stats(
        &c.input("running_mean"),
        &c.input("running_var"),
        0,
    )
}

/// A BatchNorm1d of 3 channels on the input of the cases `{prefix}_train` and `{prefix}_eval` of
/// shape `S`, and the running statistics after a training batch of shape `R` (`S` with static
/// dimensions).
fn batch_norm_cases<S: BatchNormShape<3>, R: BatchNormShape<3>>(
    c: &HashMap<String, Case>,
    prefix: &str,
) {
    for (mode, training) in [("train", true), ("eval", false)] {
        let case = &c[&format!("{prefix}_{mode}")];
        let mut layer = batch_norm(case);
        if !training {
            layer.eval();
        }
        let x = case.input::<S>("x");
        let tape = Tape::new();
        let (t, xt) = (tape.watch(&layer), tape.watch(&x));
        let y = t.forward(xt.clone());
        case.check_out(&y, RTOL);
        let grads = (y * &case.up::<S>()).sum().backward();
        case.check_grad("x", &grads, &xt, RTOL);
        case.check_grad("weight", &grads, &t.weight, RTOL);
        case.check_grad("bias", &grads, &t.bias, RTOL);
        assert_eq!(layer.num_batches_tracked(), u64::from(training));
    }
    // The running statistics after one training batch (the stored layer's, updated by the forward
    // of its copy on the tape above, and here by a forward without a tape).
    let (mean, var) = (
        &c[&format!("{prefix}_train_running_mean")],
        &c[&format!("{prefix}_train_running_var")],
    );
    let layer = batch_norm(mean);
    let _ = layer.forward(mean.input::<R>("x"));
    mean.check_out(&layer.running_mean(), RTOL);
    var.check_out(&layer.running_var(), RTOL);
    let names: Vec<String> = layer.buffers().into_iter().map(|b| b.name).collect();
    assert_eq!(
        names,
        ["running_mean", "running_var", "num_batches_tracked"]
    );
}

#[test]
fn batch_norm_in_training_and_in_evaluation() {
    // A run-time batch of 5 rows.
    batch_norm_cases::<(usize, Const<3>), Rank2<5, 3>>(&cases(), "batch_norm");
}

#[test]
fn batch_norm_of_sequences_in_training_and_in_evaluation() {
    let c = cases();
    // [B, C, L] = [2, 3, 4]: run-time batch and length, and static.
    batch_norm_cases::<(usize, Const<3>, usize), Rank3<2, 3, 4>>(&c, "batch_norm_seq");
    batch_norm_cases::<Rank3<2, 3, 4>, (Const<2>, Const<3>, usize)>(&c, "batch_norm_seq");
}

/// `scaled_dot_product_attention` on the case's `q`, `k`, `v` of shapes `Q`, `K`, `V`.
fn sdpa<Q, K, V, KT, SC, O>(c: &Case, causal: bool)
where
    Q: shaped::MatMulShape<KT, Output = SC>,
    K: shaped::Transposable<Output = KT>,
    KT: Shape,
    SC: shaped::MatMulShape<V, Output = O>,
    V: Shape,
    O: Shape,
{
    let (q, k, v) = (c.input::<Q>("q"), c.input::<K>("k"), c.input::<V>("v"));
    let tape = Tape::new();
    let (qt, kt, vt) = (tape.watch(&q), tape.watch(&k), tape.watch(&v));
    let y = scaled_dot_product_attention(&qt, &kt, &vt, causal);
    c.check_out(&y, RTOL);
    let grads = (y * &c.up::<O>()).sum().backward();
    c.check_grad("q", &grads, &qt, RTOL);
    c.check_grad("k", &grads, &kt, RTOL);
    c.check_grad("v", &grads, &vt, RTOL);
}

#[test]
fn scaled_dot_product_attention_full_and_causal() {
    let c = cases();
    for (tag, causal) in [("full", false), ("causal", true)] {
        sdpa::<Rank3<2, 3, 4>, Rank3<2, 5, 4>, Rank3<2, 5, 2>, _, _, _>(
            &c[&format!("sdpa_rank3_{tag}")],
            causal,
        );
        sdpa::<Rank4<1, 2, 4, 3>, Rank4<1, 2, 4, 3>, Rank4<1, 2, 4, 3>, _, _, _>(
            &c[&format!("sdpa_rank4_square_{tag}")],
            causal,
        );
    }
}

/// A `MultiheadAttention<4, 2, 2>` on a tape with the case's parameters; `in_proj_weight` is
/// watched as PyTorch's `[12, 4]` (its gradient read in that shape) and seen as `[3, 4, 4]`.
struct Mha {
    layer: MultiheadAttention<4, 2, 2, f64, Tape<f64>>,
    in_w: Tensor<Rank2<12, 4>, f64, Tape<f64>>,
    in_b: Tensor<Rank1<12>, f64, Tape<f64>>,
    out: Linear<4, 4, f64, Tape<f64>>,
}

fn mha(c: &Case, tape: &Tape<f64>) -> Mha {
    let in_w = tape.watch(&c.input::<Rank2<12, 4>>("in_proj_weight"));
    let in_b = tape.watch(&c.input::<Rank1<12>>("in_proj_bias"));
    let out = tape.watch(&Linear::<4, 4, f64>::from_weights(
        c.input("out_proj.weight"),
        Some(c.input("out_proj.bias")),
    ));
    let layer = MultiheadAttention {
        in_proj_weight: in_w.reshape(),
        in_proj_bias: in_b.reshape(),
        out_proj: out.clone(),
    };
    Mha {
        layer,
        in_w,
        in_b,
        out,
    }
}

fn check_mha_params(c: &Case, grads: &shaped::Grads<f64>, m: &Mha) {
    c.check_grad("in_proj_weight", grads, &m.in_w, RTOL);
    c.check_grad("in_proj_bias", grads, &m.in_b, RTOL);
    c.check_grad("out_proj.weight", grads, &m.out.weight, RTOL);
    c.check_grad("out_proj.bias", grads, m.out.bias.as_ref().unwrap(), RTOL);
}

#[test]
fn multihead_attention_self_and_cross() {
    let c = cases();
    for (tag, causal) in [("full", false), ("causal", true)] {
        let case = &c[&format!("mha_self_{tag}")];
        let tape = Tape::new();
        let m = mha(case, &tape);
        let xt = tape.watch(&case.input::<Rank3<2, 3, 4>>("x"));
        let y = m.layer.forward(&xt, &xt, &xt, causal);
        case.check_out(&y, RTOL);
        let grads = (y * &case.up::<(Const<2>, Const<3>, Const<4>)>())
            .sum()
            .backward();
        case.check_grad("x", &grads, &xt, RTOL);
        check_mha_params(case, &grads, &m);
    }
    // Queries of length 3 over keys and values of length 5, all lengths known at run time.
    let case = &c["mha_cross_runtime_lengths"];
    let tape = Tape::new();
    let m = mha(case, &tape);
    type Seq = (usize, usize, Const<4>);
    let (q, k, v) = (
        tape.watch(&case.input::<Seq>("query")),
        tape.watch(&case.input::<Seq>("key")),
        tape.watch(&case.input::<Seq>("value")),
    );
    let y = m.layer.forward(&q, &k, &v, false);
    case.check_out(&y, RTOL);
    let grads = (y * &case.up::<Seq>()).sum().backward();
    case.check_grad("query", &grads, &q, RTOL);
    case.check_grad("key", &grads, &k, RTOL);
    case.check_grad("value", &grads, &v, RTOL);
    check_mha_params(case, &grads, &m);
}

#[test]
fn multihead_attention_loads_pytorch_names_and_shapes() {
    // The parameters written under PyTorch's names and shapes load into the layer.
    let c = &cases()["mha_self_full"];
    let mut layer: MultiheadAttention<4, 2, 2, f64> = MultiheadAttention::zeros();
    let bytes = {
        let mut src: MultiheadAttention<4, 2, 2, f64> = MultiheadAttention::zeros();
        src.in_proj_weight = c.input::<Rank2<12, 4>>("in_proj_weight").reshape();
        src.to_safetensors()
    };
    layer.load_safetensors(&bytes).unwrap();
    let w = c.input::<Rank2<12, 4>>("in_proj_weight");
    assert_eq!(layer.in_proj_weight.as_slice(), w.as_slice());
    let dims: Vec<Vec<usize>> = layer.params().into_iter().map(|p| p.dims).collect();
    assert_eq!(dims, [vec![12, 4], vec![12], vec![4, 4], vec![4]]);
}

/// The values of a line (`out`, `grad x`) of a case as written in the fixture, so that float32
/// results are compared bit for bit, signs of zero included.
fn written(case: &str, line: &str) -> Vec<f64> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/reference/layers.txt"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let head = format!("case {case}");
    let lines = text.lines().skip_while(|l| *l != head).skip(1);
    let found = lines
        .take_while(|l| !l.starts_with("case "))
        .find(|l| l.starts_with(&format!("{line} ")))
        .unwrap_or_else(|| panic!("{case}: no `{line}` line"));
    let values = found.split_once(" : ").map_or("", |(_, v)| v);
    values
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

/// Whether float32 results are PyTorch's bit for bit (a NaN matches any NaN).
fn assert_bits(what: &str, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let same = if w.is_nan() {
            g.is_nan()
        } else {
            g.to_bits() == (w as f32).to_bits()
        };
        assert!(same, "{what}: element {i} is {g:e}, PyTorch gives {w:e}");
    }
}

/// A float32 copy of the case's (float32-valued) input `label`.
fn input_f32<S: Shape>(c: &Case, label: &str) -> Tensor<S, f32> {
    let x = c.input::<S>(label);
    let v = x.as_slice().iter().map(|&v| v as f32).collect();
    Tensor::from_vec_with(x.typed_shape(), v).unwrap()
}

/// The case's upstream gradient, rounded to float32 as PyTorch's autograd rounds it for a float32
/// output.
fn up_f32<S: Shape>(c: &Case) -> Tensor<S, f32> {
    let up = c.up::<S>();
    let v = up.as_slice().iter().map(|&v| v as f32).collect();
    Tensor::from_vec_with(up.typed_shape(), v).unwrap()
}

/// `dropout_with_mask` on PyTorch's input and mask: its output and the gradient of
/// `sum(out * up)`.
fn dropout_mask_case<S: Shape>(c: &Case, p: f64) {
    let x = input_f32::<S>(c, "x");
    let mask: Vec<f32> = c.ints("mask").1.iter().map(|&k| k as f32).collect();
    let keep = Tensor::from_vec_with(x.typed_shape(), mask).unwrap();
    let up = up_f32::<S>(c);
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let y = dropout_with_mask(xt.clone(), &keep, p);
    assert_bits(&c.name, y.as_slice(), &written(&c.name, "out"));
    let g = (y * &up).sum().backward().get(&xt);
    assert_bits(&c.name, g.as_slice(), &written(&c.name, "grad x"));
}

#[test]
fn dropout_with_pytorchs_mask_bit_for_bit_in_f32() {
    let c = cases();
    dropout_mask_case::<Rank2<4, 5>>(&c["dropout_mask_p0_3"], 0.3);
    dropout_mask_case::<(usize, Const<7>)>(&c["dropout_mask_p0_1_runtime"], 0.1);
}

/// The share of kept elements of `n` draws that keep each with probability `q` lies within 5
/// standard deviations of `q` (a false alarm once in 1.7 million runs).
fn assert_binomial(what: &str, kept: usize, n: usize, q: f64) {
    let (mean, sd) = (n as f64 * q, (n as f64 * q * (1.0 - q)).sqrt());
    let k = kept as f64;
    assert!(
        (k - mean).abs() <= 5.0 * sd,
        "{what}: {kept} kept of {n}, expected {mean} +- {sd}"
    );
}

#[test]
fn dropout_draws_have_pytorchs_properties() {
    let c = cases();
    let case = &c["dropout_draws_p0_3"];
    let x = input_f32::<Rank2<40, 50>>(case, "x");
    let scale = 1.0_f32 / (1.0_f64 - 0.3) as f32;
    // PyTorch's draws and the layer's: each element 0, or exactly x times the float32 scale; a
    // binomial share kept.
    let ours = Dropout::new(0.3, 82).forward(x.clone()).to_vec();
    let theirs: Vec<f32> = written(&case.name, "out")
        .iter()
        .map(|&v| v as f32)
        .collect();
    for (who, y) in [("PyTorch", &theirs), ("shaped", &ours)] {
        for (&o, &v) in y.iter().zip(x.as_slice()) {
            assert!(
                o == 0.0 || o.to_bits() == (v * scale).to_bits(),
                "{who}: {o:e} for {v:e}"
            );
        }
        let kept = y.iter().filter(|&&o| o != 0.0).count();
        assert_binomial(who, kept, 2000, 0.7);
    }
    assert_ne!(ours, theirs);
    // Evaluation and p = 0 return the input; p = 1 zeroes it (NaN for NaN and infinities, -0.0 for
    // negative values); the gradients are PyTorch's too.
    for (name, p, training) in [
        ("dropout_eval", 0.5, false),
        ("dropout_p0", 0.0, true),
        ("dropout_p1", 1.0, true),
    ] {
        let case = &c[name];
        let mut layer: Dropout = Dropout::new(p, 0);
        if !training {
            layer.eval();
        }
        let x = input_f32::<Rank2<3, 4>>(case, "x");
        let up = up_f32::<Rank2<3, 4>>(case);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = layer.forward(xt.clone());
        assert_bits(name, y.as_slice(), &written(name, "out"));
        let g = (y * &up).sum().backward().get(&xt);
        assert_bits(name, g.as_slice(), &written(name, "grad x"));
    }
}
