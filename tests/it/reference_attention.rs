//! `MultiheadAttention::attend` against PyTorch's `nn.MultiheadAttention` with the same weights: the
//! key padding mask (with and without the causal mask), the attention weights averaged over the
//! heads and per head, and a batch whose keys are all padding; the output and the gradients of
//! `sum(out * up)` with respect to the inputs and every parameter, on static shapes and on run-time
//! dimensions. A dropout in evaluation must change nothing. The reference values are written by
//! `scripts/reference_attention.py` (PyTorch, float64) to `tests/data/reference/attention.txt`.

use std::collections::HashMap;

use crate::reference::{Case, load};
use shaped::nn::{AttentionOptions, Dropout, Linear, MultiheadAttention, Sequence};
use shaped::{Const, Mask, Module, Rank3, Tape};

/// Softmax sums and matrix products in another order than PyTorch's: in float64 the results agree
/// to a few units in the 14th digit (the tolerance of the other layers' fixture).
const RTOL: f64 = 1e-10;

fn cases() -> HashMap<String, Case> {
    load("attention")
}

/// What a case compares: the attention output, the weights averaged over the heads, or the weights
/// of each head.
#[derive(Clone, Copy)]
enum What {
    Output,
    Averaged,
    PerHead,
}

/// Runs the case's layer on its `query` of shape `QS` and `key` and `value` of shape `KS` with its
/// key padding mask, `causal` and `dropout`, and checks `what` and every gradient against PyTorch.
fn check<QS, KS>(c: &Case, causal: bool, what: What, dropout: Option<&Dropout<f64>>)
where
    QS: Sequence<4>,
    KS: Sequence<4, B = QS::B>,
{
    let layer: MultiheadAttention<4, 2, 2, f64> = MultiheadAttention::from_weights(
        c.input("in_proj_weight"),
        c.input("in_proj_bias"),
        Linear::from_weights(c.input("out_proj.weight"), Some(c.input("out_proj.bias"))),
    );
    let tape = Tape::new();
    let t = tape.watch(&layer);
    let q = tape.watch(&c.input::<QS>("query"));
    let k = tape.watch(&c.input::<KS>("key"));
    let v = tape.watch(&c.input::<KS>("value"));
    let (b, _, _) = q.typed_shape().sequence();
    let (_, s, _) = k.typed_shape().sequence();
    let padded = c
        .ints("key_padding_mask")
        .1
        .iter()
        .map(|&v| v != 0)
        .collect();
    let mask = Mask::from_vec_with((b, s), padded).unwrap();
    let options = AttentionOptions {
        causal,
        key_padding_mask: Some(&mask),
        dropout,
    };
    let a = t.attend(&q, &k, &v, &options);
    let grads = match what {
        What::Output => {
            c.check_out(&a.output, RTOL);
            let up = c.up::<(QS::B, QS::L, Const<4>)>();
            (a.output * &up).sum().backward()
        }
        What::Averaged => {
            let w = a.averaged_weights();
            c.check_out(&w, RTOL);
            (w * &c.up::<(QS::B, QS::L, KS::L)>()).sum().backward()
        }
        What::PerHead => {
            c.check_out(&a.weights, RTOL);
            let up = c.up::<(QS::B, Const<2>, QS::L, KS::L)>();
            (a.weights * &up).sum().backward()
        }
    };
    c.check_grad("query", &grads, &q, RTOL);
    c.check_grad("key", &grads, &k, RTOL);
    c.check_grad("value", &grads, &v, RTOL);
    c.check_grad("in_proj_weight", &grads, &t.in_proj_weight, RTOL);
    c.check_grad("in_proj_bias", &grads, &t.in_proj_bias, RTOL);
    c.check_grad("out_proj.weight", &grads, &t.out_proj.weight, RTOL);
    let out_bias = t.out_proj.bias.as_ref().unwrap();
    c.check_grad("out_proj.bias", &grads, out_bias, RTOL);
}

type Runtime = (usize, usize, Const<4>);

#[test]
fn key_padding_mask_on_static_and_run_time_shapes() {
    let c = cases();
    // Queries of length 3 over 5 keys, of which the mask ignores 2 in each batch.
    check::<Rank3<2, 3, 4>, Rank3<2, 5, 4>>(
        &c["key_padding_mask_cross"],
        false,
        What::Output,
        None,
    );
    // Self-attention lengths with the causal mask too, all sizes known at run time.
    check::<Runtime, Runtime>(&c["key_padding_mask_causal"], true, What::Output, None);
}

#[test]
fn attention_weights_averaged_and_per_head() {
    let c = cases();
    check::<Rank3<2, 3, 4>, Rank3<2, 5, 4>>(&c["weights_averaged"], false, What::Averaged, None);
    check::<Rank3<2, 3, 4>, Rank3<2, 5, 4>>(
        &c["weights_averaged_unmasked"],
        false,
        What::Averaged,
        None,
    );
    check::<Runtime, Runtime>(&c["weights_per_head"], true, What::PerHead, None);
}

#[test]
fn a_batch_whose_keys_are_all_padding_is_nan_as_in_pytorch() {
    let c = &cases()["fully_padded_batch"];
    check::<Rank3<2, 3, 4>, Rank3<2, 5, 4>>(c, false, What::Output, None);
}

#[test]
fn a_dropout_at_p_zero_or_in_evaluation_gives_pytorchs_values() {
    let c = &cases()["key_padding_mask_cross"];
    let zero = Dropout::new(0.0, 1);
    check::<Rank3<2, 3, 4>, Rank3<2, 5, 4>>(c, false, What::Output, Some(&zero));
    let mut drop = Dropout::new(0.5, 1);
    drop.eval();
    for _ in 0..2 {
        check::<Rank3<2, 3, 4>, Rank3<2, 5, 4>>(c, false, What::Output, Some(&drop));
    }
}
