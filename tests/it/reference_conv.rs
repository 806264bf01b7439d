//! conv1d, conv2d, max_pool2d and avg_pool2d against PyTorch: values and every gradient, recorded in
//! float64 by `scripts/reference_conv.py` (`tests/data/reference/conv.txt`). Stride, padding and
//! dilation are repeated here in each call's spec; a case read as a run-time batch gets a tuple type.

use std::collections::{HashMap, HashSet};

use crate::reference::{self, Case};
use shaped::{Const, Conv, NoBias, Pool, Rank1, Rank3, Rank4, Tape, Tensor};

/// How far from PyTorch's values the crate may be, relative: sums of products in another order.
const RTOL: f64 = 1e-12;

/// The fixture's cases, and the names of those checked so far.
struct Cases {
    all: HashMap<String, Case>,
    checked: HashSet<String>,
}

impl Default for Cases {
    fn default() -> Self {
        Self {
            all: reference::load("conv"),
            checked: HashSet::new(),
        }
    }
}

impl Cases {
    /// The case `name`, counted as checked.
    fn check(&mut self, name: &str) -> &Case {
        self.checked.insert(name.to_owned());
        &self.all[name]
    }
}

/// Checks a convolution case: `$op` of the input `x` (shape `$x`) by the weight `w` (`$w`), with the
/// bias `b` (`$b`) or none, into `$out`, and the gradients of `sum(out * up)`.
macro_rules! check_conv {
    ($cases:ident, $name:literal, $op:ident, $x:ty, $w:ty, NoBias, $out:ty, $spec:expr) => {{
        let c = $cases.check($name);
        let tape = Tape::new();
        let x = tape.watch(&c.input::<$x>("x"));
        let w = tape.watch(&c.input::<$w>("w"));
        let y: Tensor<$out, f64, Tape<f64>> = x.$op(&w, NoBias, $spec);
        c.check_out(&y, RTOL);
        let grads = (y * &c.up::<$out>()).sum().backward();
        c.check_grad("x", &grads, &x, RTOL);
        c.check_grad("w", &grads, &w, RTOL);
    }};
    ($cases:ident, $name:literal, $op:ident, $x:ty, $w:ty, $b:ty, $out:ty, $spec:expr) => {{
        let c = $cases.check($name);
        let tape = Tape::new();
        let x = tape.watch(&c.input::<$x>("x"));
        let w = tape.watch(&c.input::<$w>("w"));
        let b = tape.watch(&c.input::<$b>("b"));
        let y: Tensor<$out, f64, Tape<f64>> = x.$op(&w, &b, $spec);
        c.check_out(&y, RTOL);
        let grads = (y * &c.up::<$out>()).sum().backward();
        c.check_grad("x", &grads, &x, RTOL);
        c.check_grad("w", &grads, &w, RTOL);
        c.check_grad("b", &grads, &b, RTOL);
    }};
}

/// Checks a pooling case: `$op` of the input `x` (shape `$x`) into `$out`, and the gradient.
macro_rules! check_pool {
    ($cases:ident, $name:literal, $op:ident, $x:ty, $out:ty, $window:expr) => {{
        let c = $cases.check($name);
        let tape = Tape::new();
        let x = tape.watch(&c.input::<$x>("x"));
        let y: Tensor<$out, f64, Tape<f64>> = x.$op($window);
        c.check_out(&y, RTOL);
        let grads = (y * &c.up::<$out>()).sum().backward();
        c.check_grad("x", &grads, &x, RTOL);
    }};
}

type Batch4<const C: usize, const H: usize, const W: usize> = (usize, Const<C>, Const<H>, Const<W>);

fn conv2d_matches_pytorch(cases: &mut Cases) {
    check_conv!(cases, "conv2d_plain", conv2d,
        Rank4<2, 3, 5, 6>, Rank4<4, 3, 3, 2>, Rank1<4>, Rank4<2, 4, 3, 5>, Conv::<1>);
    check_conv!(cases, "conv2d_padding", conv2d,
        Rank4<2, 2, 6, 6>, Rank4<3, 2, 3, 3>, Rank1<3>, Rank4<2, 3, 6, 6>, Conv::<1, 1>);
    check_conv!(cases, "conv2d_stride_padding", conv2d,
        Rank4<2, 2, 7, 6>, Rank4<3, 2, 3, 3>, Rank1<3>, Rank4<2, 3, 4, 3>, Conv::<2, 1>);
    check_conv!(cases, "conv2d_dilation_padding", conv2d,
        Rank4<1, 2, 7, 7>, Rank4<2, 2, 3, 3>, Rank1<2>, Rank4<1, 2, 7, 7>, Conv::<1, 2, 2>);
    check_conv!(cases, "conv2d_stride_padding_dilation", conv2d,
        Rank4<2, 3, 8, 9>, Rank4<2, 3, 2, 3>, Rank1<2>, Rank4<2, 2, 3, 3>, Conv::<3, 1, 2>);
    check_conv!(cases, "conv2d_no_bias", conv2d,
        Rank4<3, 1, 8, 8>, Rank4<4, 1, 3, 3>, NoBias, Rank4<3, 4, 8, 8>, Conv::<1, 1>);
    check_conv!(cases, "conv2d_runtime_batch", conv2d,
        Batch4<2, 5, 5>, Rank4<3, 2, 3, 3>, Rank1<3>, Batch4<3, 5, 5>, Conv::<1, 1>);
    check_conv!(cases, "conv2d_edge_values", conv2d,
        Rank4<1, 2, 4, 4>, Rank4<2, 2, 3, 3>, Rank1<2>, Rank4<1, 2, 4, 4>, Conv::<1, 1>);
}

fn conv1d_matches_pytorch(cases: &mut Cases) {
    type Batch3<const C: usize, const L: usize> = (usize, Const<C>, Const<L>);
    check_conv!(cases, "conv1d_plain", conv1d,
        Rank3<2, 3, 10>, Rank3<4, 3, 3>, Rank1<4>, Rank3<2, 4, 8>, Conv::<1>);
    check_conv!(cases, "conv1d_stride_padding_dilation", conv1d,
        Rank3<2, 3, 11>, Rank3<2, 3, 3>, Rank1<2>, Rank3<2, 2, 5>, Conv::<2, 2, 3>);
    check_conv!(cases, "conv1d_runtime_batch", conv1d,
        Batch3<2, 7>, Rank3<3, 2, 2>, NoBias, Batch3<3, 8>, Conv::<1, 1>);
}

fn max_pool2d_matches_pytorch(cases: &mut Cases) {
    type Planes<const H: usize, const W: usize> = (usize, usize, Const<H>, Const<W>);
    check_pool!(cases, "max_pool2d_k2", max_pool2d, Rank4<2, 3, 6, 6>, Rank4<2, 3, 3, 3>, Pool::<2>);
    check_pool!(cases, "max_pool2d_k3_s2_p1", max_pool2d,
        Rank4<2, 2, 7, 7>, Rank4<2, 2, 4, 4>, Pool::<3, 2, 1>);
    check_pool!(cases, "max_pool2d_k2_odd_size", max_pool2d,
        Rank4<1, 2, 5, 7>, Rank4<1, 2, 2, 3>, Pool::<2>);
    check_pool!(cases, "max_pool2d_ties_k2", max_pool2d,
        Rank4<2, 2, 6, 6>, Rank4<2, 2, 3, 3>, Pool::<2>);
    check_pool!(cases, "max_pool2d_ties_k3_s1_p1", max_pool2d,
        Rank4<1, 2, 5, 5>, Rank4<1, 2, 5, 5>, Pool::<3, 1, 1>);
    check_pool!(cases, "max_pool2d_edge_values", max_pool2d,
        Rank4<1, 1, 4, 6>, Rank4<1, 1, 2, 3>, Pool::<2>);
    check_pool!(cases, "max_pool2d_runtime_batch", max_pool2d,
        Planes<4, 4>, Planes<3, 3>, Pool::<2, 1>);
}

fn avg_pool2d_matches_pytorch(cases: &mut Cases) {
    check_pool!(cases, "avg_pool2d_k2", avg_pool2d, Rank4<2, 3, 6, 6>, Rank4<2, 3, 3, 3>, Pool::<2>);
    check_pool!(cases, "avg_pool2d_k3_s2_p1", avg_pool2d,
        Rank4<2, 2, 7, 7>, Rank4<2, 2, 4, 4>, Pool::<3, 2, 1>);
    check_pool!(cases, "avg_pool2d_k3_s1_p1", avg_pool2d,
        Rank4<1, 2, 5, 7>, Rank4<1, 2, 5, 7>, Pool::<3, 1, 1>);
    check_pool!(cases, "avg_pool2d_edge_values", avg_pool2d,
        Rank4<1, 1, 4, 4>, Rank4<1, 1, 2, 2>, Pool::<2>);
    check_pool!(cases, "avg_pool2d_runtime_batch", avg_pool2d,
        Batch4<2, 4, 4>, Batch4<2, 2, 2>, Pool::<2>);
}

#[test]
fn every_case_matches_pytorch() {
    let mut cases = Cases::default();
    conv2d_matches_pytorch(&mut cases);
    conv1d_matches_pytorch(&mut cases);
    max_pool2d_matches_pytorch(&mut cases);
    avg_pool2d_matches_pytorch(&mut cases);
    let mut unchecked: Vec<&String> = cases
        .all
        .keys()
        .filter(|n| !cases.checked.contains(*n))
        .collect();
    unchecked.sort();
    assert!(
        unchecked.is_empty(),
        "cases of the fixture not checked: {unchecked:?}"
    );
}
