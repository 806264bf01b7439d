//! The joining, slicing and indexing ops against PyTorch: `concat`, `stack`, `narrow`, `split`,
//! `index_select` and `embedding`, their values and the gradients of `sum(out * up)`, on static
//! shapes and on run-time dimensions, with NaN, infinities, a negative zero and empty results among
//! the cases. The reference values are written by `scripts/reference_joining.py` (PyTorch, float64)
//! to `tests/data/reference/joining.txt`.

use std::collections::HashMap;

use crate::reference::{Case, load};
use shaped::{Axis, Const, Dim, Indices, Rank1, Rank2, Rank3, Shape, Tape, Tensor};

/// Values are copied and gradients are routed or summed: they match PyTorch to rounding.
const RTOL: f64 = 1e-12;

fn cases() -> HashMap<String, Case> {
    load("joining")
}

/// Checks `f` of the watched inputs `labels` (their shapes given by `S1` and `S2`) against the case:
/// the output, and the gradient of `sum(out * up)` for each input.
fn check2<S1: Shape, S2: Shape, S3: Shape>(
    case: &Case,
    labels: [&str; 2],
    f: impl Fn(&Tensor<S1, f64, Tape<f64>>, &Tensor<S2, f64, Tape<f64>>) -> Tensor<S3, f64, Tape<f64>>,
) {
    let (a, b) = (case.input::<S1>(labels[0]), case.input::<S2>(labels[1]));
    let tape = Tape::new();
    let (at, bt) = (tape.watch(&a), tape.watch(&b));
    let y = f(&at, &bt);
    case.check_out(&y, RTOL);
    let grads = (y * &case.up::<S3>()).sum().backward();
    case.check_grad(labels[0], &grads, &at, RTOL);
    case.check_grad(labels[1], &grads, &bt, RTOL);
}

/// As [`check2`], for an op of one input.
fn check1<S1: Shape, S3: Shape>(
    case: &Case,
    label: &str,
    f: impl Fn(&Tensor<S1, f64, Tape<f64>>) -> Tensor<S3, f64, Tape<f64>>,
) {
    let x = case.input::<S1>(label);
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let y = f(&xt);
    case.check_out(&y, RTOL);
    let grads = (y * &case.up::<S3>()).sum().backward();
    case.check_grad(label, &grads, &xt, RTOL);
}

/// The integer input `label` as indices below `bound`.
fn indices<N: Dim, V: Dim>(case: &Case, label: &str, bound: V) -> Indices<N, V> {
    let ids: Vec<usize> = case.ints(label).1.iter().map(|&i| i as usize).collect();
    Indices::from_slice_with(bound, &ids).unwrap()
}

#[test]
fn concat() {
    let c = cases();
    check2::<Rank2<2, 3>, Rank2<1, 3>, Rank2<3, 3>>(
        &c["concat_axis0_rank2"],
        ["a", "b"],
        |a, b| a.concat(Axis::<0>, b),
    );
    check2::<Rank3<2, 3, 2>, Rank3<2, 1, 2>, Rank3<2, 4, 2>>(
        &c["concat_axis1_rank3"],
        ["a", "b"],
        |a, b| a.concat(Axis::<1>, b),
    );
    check2::<Rank3<2, 2, 1>, Rank3<2, 2, 3>, Rank3<2, 2, 4>>(
        &c["concat_axis2_rank3"],
        ["a", "b"],
        |a, b| a.concat(Axis::<2>, b),
    );
    check2::<Rank1<3>, Rank1<2>, Rank1<5>>(
        &c["concat_axis0_rank1_edge_values"],
        ["a", "b"],
        |a, b| a.concat(Axis::<0>, b),
    );
    check2::<Rank2<2, 0>, Rank2<2, 3>, Rank2<2, 3>>(
        &c["concat_axis1_empty_left"],
        ["a", "b"],
        |a, b| a.concat(Axis::<1>, b),
    );
    // Run-time rows: the joined axis is computed, or static and written.
    check2::<(usize, Const<3>), (usize, Const<3>), (usize, Const<3>)>(
        &c["concat_runtime_rows_axis0"],
        ["a", "b"],
        |a, b| a.concat(Axis::<0>, b),
    );
    check2::<(usize, Const<2>), (usize, Const<1>), (usize, Const<3>)>(
        &c["concat_runtime_rows_axis1"],
        ["a", "b"],
        |a, b| a.concat(Axis::<1>, b),
    );
}

/// Checks `stack` of the three inputs of a case along `AX`.
fn check_stack<const AX: usize, S3: Shape>(case: &Case)
where
    Rank2<2, 3>: shaped::InsertAxis<AX, 3, Output = S3>,
{
    let [a, b, c] = ["a", "b", "c"].map(|l| case.input::<Rank2<2, 3>>(l));
    let tape = Tape::new();
    let [at, bt, ct] = [&a, &b, &c].map(|t| tape.watch(t));
    let y = Tensor::stack(Axis::<AX>, [&at, &bt, &ct]);
    case.check_out(&y, RTOL);
    let grads = (y * &case.up::<S3>()).sum().backward();
    for (label, t) in [("a", &at), ("b", &bt), ("c", &ct)] {
        case.check_grad(label, &grads, t, RTOL);
    }
}

#[test]
fn stack() {
    let c = cases();
    check_stack::<0, Rank3<3, 2, 3>>(&c["stack_axis0_of_three"]);
    check_stack::<1, Rank3<2, 3, 3>>(&c["stack_axis1_of_three"]);
    check_stack::<2, Rank3<2, 3, 3>>(&c["stack_axis2_of_three"]);
    check2::<(usize, Const<2>), (usize, Const<2>), (usize, Const<2>, Const<2>)>(
        &c["stack_runtime_rows_axis1"],
        ["a", "b"],
        |a, b| Tensor::stack(Axis::<1>, [a, b]),
    );
}

#[test]
fn narrow_and_split() {
    let c = cases();
    check1::<Rank3<2, 4, 3>, _>(&c["narrow_axis1_1_2_rank3"], "x", |x| x.narrow::<1, 1, 2>());
    check1::<Rank2<3, 2>, _>(&c["narrow_axis0_last_row"], "x", |x| x.narrow::<0, 2, 1>());
    check1::<Rank3<2, 2, 3>, _>(&c["narrow_axis2_empty"], "x", |x| x.narrow::<2, 3, 0>());
    check1::<(usize, Const<2>), _>(&c["narrow_runtime_rows_axis0"], "x", |x| {
        x.narrow::<0, 1, 3>()
    });
    check1::<Rank2<5, 2>, _>(&c["split_axis0_2_3_first"], "x", |x| x.split::<0, 2, 3>().0);
    check1::<Rank2<5, 2>, _>(&c["split_axis0_2_3_second"], "x", |x| {
        x.split::<0, 2, 3>().1
    });
    check1::<Rank2<2, 3>, _>(&c["split_axis1_0_3_second"], "x", |x| {
        x.split::<1, 0, 3>().1
    });
}

/// Checks `f` of the watched float input `x` and the indices `i` (below the size of axis `ax` of
/// `x`) against the case.
fn check_indexed<S1: Shape, N: Dim, S3: Shape>(
    case: &Case,
    labels: [&str; 2],
    ax: usize,
    f: impl Fn(&Tensor<S1, f64, Tape<f64>>, &Indices<N, usize>) -> Tensor<S3, f64, Tape<f64>>,
) {
    let x = case.input::<S1>(labels[0]);
    let ids = indices(case, labels[1], x.shape().as_ref()[ax]);
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let y = f(&xt, &ids);
    case.check_out(&y, RTOL);
    let grads = (y * &case.up::<S3>()).sum().backward();
    case.check_grad(labels[0], &grads, &xt, RTOL);
}

#[test]
fn index_select() {
    let c = cases();
    // Static shapes and static bounds.
    let case = &c["index_select_axis0_repeated"];
    let ids: Indices<usize, Const<4>> = indices(case, "i", Const);
    check1::<Rank2<4, 3>, _>(case, "x", |x| x.index_select(Axis::<0>, &ids));
    let case = &c["index_select_axis1_rank3"];
    let ids: Indices<Const<3>, Const<4>> = indices(case, "i", Const);
    check1::<Rank3<2, 4, 2>, _>(case, "x", |x| x.index_select(Axis::<1>, &ids));
    let case = &c["index_select_axis2_rank3"];
    let ids: Indices<Const<1>, Const<3>> = indices(case, "i", Const);
    check1::<Rank3<2, 3, 3>, _>(case, "x", |x| x.index_select(Axis::<2>, &ids));
    let case = &c["index_select_axis0_empty"];
    let ids: Indices<usize, Const<3>> = indices(case, "i", Const);
    check1::<Rank2<3, 2>, _>(case, "x", |x| x.index_select(Axis::<0>, &ids));
    // A run-time number of rows and a run-time bound.
    check_indexed::<(usize, Const<2>), usize, _>(
        &c["index_select_runtime_rows_axis0"],
        ["x", "i"],
        0,
        |x, ids| x.index_select(Axis::<0>, ids),
    );
}

#[test]
fn embedding() {
    let c = cases();
    let case = &c["embedding_repeated_ids"];
    let ids: Indices<usize, Const<5>> = indices(case, "ids", Const);
    check1::<Rank2<5, 3>, _>(case, "table", |t| t.embedding(&ids));
    let case = &c["embedding_edge_values"];
    let ids: Indices<Const<3>, Const<3>> = indices(case, "ids", Const);
    check1::<Rank2<3, 2>, _>(case, "table", |t| t.embedding(&ids));
    let case = &c["embedding_no_ids"];
    let ids: Indices<usize, Const<4>> = indices(case, "ids", Const);
    check1::<Rank2<4, 2>, _>(case, "table", |t| t.embedding(&ids));
    // A vocabulary whose size is known at run time.
    check_indexed::<(usize, Const<2>), usize, _>(
        &c["embedding_runtime_vocabulary"],
        ["table", "ids"],
        0,
        |t, ids| t.embedding(ids),
    );
}

#[test]
fn every_case_is_checked() {
    // The cases above, by name: a case added to the script must be added here too.
    let checked = [
        "concat_axis0_rank2",
        "concat_axis1_rank3",
        "concat_axis2_rank3",
        "concat_axis0_rank1_edge_values",
        "concat_axis1_empty_left",
        "concat_runtime_rows_axis0",
        "concat_runtime_rows_axis1",
        "stack_axis0_of_three",
        "stack_axis1_of_three",
        "stack_axis2_of_three",
        "stack_runtime_rows_axis1",
        "narrow_axis1_1_2_rank3",
        "narrow_axis0_last_row",
        "narrow_axis2_empty",
        "narrow_runtime_rows_axis0",
        "split_axis0_2_3_first",
        "split_axis0_2_3_second",
        "split_axis1_0_3_second",
        "index_select_axis0_repeated",
        "index_select_axis1_rank3",
        "index_select_axis2_rank3",
        "index_select_axis0_empty",
        "index_select_runtime_rows_axis0",
        "embedding_repeated_ids",
        "embedding_edge_values",
        "embedding_no_ids",
        "embedding_runtime_vocabulary",
    ];
    let mut names: Vec<_> = cases().into_keys().collect();
    names.sort();
    let mut want: Vec<_> = checked.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(names, want);
}
