//! The comparison, masking and reduction ops against PyTorch: `permute` of rank 5 and 6,
//! `transpose_axes`, the comparisons, `where`, `masked_fill`, `maximum`/`minimum`, `clamp`, `min`,
//! `argmax`/`argmin`, `var`/`std`, `gather` and the reductions over several axes; their values and
//! the gradients of `sum(out * up)`, with ties, NaN, infinities, the bounds of `clamp`, corrections
//! 0, 1 and fractions and axes of size 1 among the cases, on static shapes and on run-time
//! dimensions. The reference values are written by `scripts/reference_masking.py` (PyTorch,
//! float64) to `tests/data/reference/masking.txt`.

use std::collections::HashMap;

use crate::reference::{Case, load};
use shaped::{
    Axes2, Axes3, Axes5, Axes6, Axis, Const, Dim, IndexTensor, Indices, Mask, Rank0, Rank1, Rank2,
    Rank3, Rank4, Rank5, Rank6, Shape, Tape, Tensor,
};

/// Moves, comparisons and selections are exact; sums and variances agree with PyTorch to rounding.
const RTOL: f64 = 1e-12;

fn cases() -> HashMap<String, Case> {
    load("masking")
}

/// Checks `f` of the watched input `label` (of shape `S1`) against the case: the output, and the
/// gradient of `sum(out * up)`.
fn check1<S1: Shape, S2: Shape>(
    case: &Case,
    label: &str,
    f: impl Fn(&Tensor<S1, f64, Tape<f64>>) -> Tensor<S2, f64, Tape<f64>>,
) {
    let x = case.input::<S1>(label);
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let y = f(&xt);
    case.check_out(&y, RTOL);
    let grads = (y * &case.up::<S2>()).sum().backward();
    case.check_grad(label, &grads, &xt, RTOL);
}

/// As [`check1`], for an op of the two watched inputs `a` and `b` of one shape.
fn check2<S: Shape, S2: Shape>(
    case: &Case,
    f: impl Fn(&Tensor<S, f64, Tape<f64>>, &Tensor<S, f64, Tape<f64>>) -> Tensor<S2, f64, Tape<f64>>,
) {
    let (a, b) = (case.input::<S>("a"), case.input::<S>("b"));
    let tape = Tape::new();
    let (at, bt) = (tape.watch(&a), tape.watch(&b));
    let y = f(&at, &bt);
    case.check_out(&y, RTOL);
    let grads = (y * &case.up::<S2>()).sum().backward();
    case.check_grad("a", &grads, &at, RTOL);
    case.check_grad("b", &grads, &bt, RTOL);
}

/// The boolean input `label` as a mask of shape `S`.
fn mask<S: Shape>(case: &Case, label: &str) -> Mask<S> {
    let (dims, v) = case.ints(label);
    let shape = S::from_dims(dims).expect("the mask's shape");
    Mask::from_vec_with(shape, v.iter().map(|&b| b != 0).collect()).unwrap()
}

/// Checks a mask against PyTorch's boolean output.
fn check_mask<S: Shape>(case: &Case, got: &Mask<S>) {
    let bits: Vec<usize> = got.as_slice().iter().map(|&b| usize::from(b)).collect();
    case.check_out_ints(got.shape().as_ref(), &bits);
}

/// Checks indices against PyTorch's `int64` output of dimensions `dims`.
fn check_indices<N: Dim, V: Dim>(case: &Case, dims: &[usize], got: &Indices<N, V>) {
    case.check_out_ints(dims, got.as_slice());
}

/// Checks shaped indices against PyTorch's `int64` output.
fn check_index_tensor<S: Shape, V: Dim>(case: &Case, got: &IndexTensor<S, V>) {
    case.check_out_ints(got.shape().as_ref(), got.as_slice());
}

#[test]
fn permute_and_transpose_axes() {
    let c = cases();
    check1::<Rank5<2, 1, 3, 2, 2>, _>(&c["permute_rank5"], "x", |x| {
        x.permute::<Axes5<4, 2, 0, 3, 1>>()
    });
    check1::<Rank6<1, 2, 2, 1, 3, 2>, _>(&c["permute_rank6"], "x", |x| {
        x.permute::<Axes6<5, 4, 3, 2, 1, 0>>()
    });
    check1::<Rank3<2, 3, 4>, _>(&c["transpose_axes_0_2_rank3"], "x", |x| {
        x.transpose_axes::<0, 2>()
    });
    check1::<Rank4<2, 3, 1, 2>, _>(&c["transpose_axes_1_3_rank4"], "x", |x| {
        x.transpose_axes::<1, 3>()
    });
}

#[test]
fn comparisons() {
    let c = cases();
    type S = Rank2<2, 4>;
    type Both = fn(&Tensor<S, f64>, &Tensor<S, f64>) -> Mask<S>;
    type One = fn(&Tensor<S, f64>) -> Mask<S>;
    let ops: [(&str, Both, One); 6] = [
        ("eq", |a, b| a.eq(b), |a| a.eq(2.0)),
        ("ne", |a, b| a.ne(b), |a| a.ne(2.0)),
        ("lt", |a, b| a.lt(b), |a| a.lt(2.0)),
        ("le", |a, b| a.le(b), |a| a.le(2.0)),
        ("gt", |a, b| a.gt(b), |a| a.gt(2.0)),
        ("ge", |a, b| a.ge(b), |a| a.ge(2.0)),
    ];
    for (name, with_tensor, with_scalar) in ops {
        let case = &c[&format!("{name}_tensor")];
        let (a, b) = (case.input::<S>("a"), case.input::<S>("b"));
        check_mask(case, &with_tensor(&a, &b));
        let case = &c[&format!("{name}_scalar_2")];
        check_mask(case, &with_scalar(&case.input::<S>("a")));
    }
}

#[test]
fn where_and_masked_fill() {
    let c = cases();
    let case = &c["where_rank2"];
    let m = mask::<Rank2<2, 3>>(case, "m");
    check2::<Rank2<2, 3>, _>(case, |a, b| m.select(a, b));
    let case = &c["where_nan_in_the_unselected"];
    let m = mask::<Rank1<4>>(case, "m");
    check2::<Rank1<4>, _>(case, |a, b| m.select(a, b));
    let case = &c["masked_fill_rank3"];
    let m = mask::<Rank3<2, 2, 2>>(case, "m");
    check1::<Rank3<2, 2, 2>, _>(case, "x", |x| x.masked_fill(&m, -1.5));
    let case = &c["masked_fill_neg_inf"];
    let m = mask::<Rank2<2, 3>>(case, "m");
    check1::<Rank2<2, 3>, _>(case, "x", |x| x.masked_fill(&m, f64::NEG_INFINITY));
}

/// Checks `clamp(min, max)` against the case: the values, and the gradient, 0 on the bounds as
/// PyTorch's (the case has elements on them).
fn check_clamp(case: &Case, min: f64, max: f64) {
    let x: Tensor<(usize,), f64> = case.input("x");
    assert!(
        x.as_slice().iter().any(|&v| v == min || v == max),
        "{}: no element on a bound",
        case.name
    );
    check1::<(usize,), _>(case, "x", |x| x.clamp(min, max));
}

#[test]
fn maximum_minimum_and_clamp() {
    let c = cases();
    check2::<Rank2<2, 3>, _>(&c["maximum_ties"], |a, b| a.maximum(b));
    check2::<Rank2<2, 3>, _>(&c["minimum_ties"], |a, b| a.minimum(b));
    check1::<Rank2<2, 3>, _>(&c["maximum_scalar_1"], "a", |a| a.maximum(1.0));
    check1::<Rank2<2, 3>, _>(&c["minimum_scalar_2"], "a", |a| a.minimum(2.0));
    check2::<Rank1<3>, _>(&c["maximum_nan"], |a, b| a.maximum(b));
    // On a bound PyTorch gives the gradient 0, for one bound or two; here an element on a bound gets
    // the upstream gradient unchanged. Everywhere else the gradients agree.
    check_clamp(&c["clamp_bounds"], -1.0, 1.0);
    check_clamp(&c["clamp_min_only_bound"], -1.0, f64::INFINITY);
    check1::<Rank2<3, 4>, _>(&c["clamp_rank2"], "x", |x| x.clamp(-0.5, 0.75));
}

#[test]
fn min_with_ties() {
    let c = cases();
    type S = Rank2<3, 4>;
    check1::<S, Rank0>(&c["min_all_ties"], "x", |x| x.min());
    check1::<S, _>(&c["min_axis1_ties"], "x", |x| x.min_axis::<1>());
    check1::<S, _>(&c["min_axis0_ties"], "x", |x| x.min_axis::<0>());
    check1::<Rank3<2, 3, 2>, _>(&c["min_axis1_keepdim"], "x", |x| x.min_axis_keepdim::<1>());
    let case = &c["min_axis_nan_values"];
    case.check_out(&case.input::<Rank2<2, 3>>("x").min_axis::<1>(), RTOL);
}

#[test]
fn argmax_and_argmin() {
    let c = cases();
    let case = &c["argmax_axis0"];
    let x = case.input::<Rank2<4, 4>>("x");
    check_indices(case, &[4], &x.argmax_axis::<0>());
    check_indices(&c["argmin_axis0"], &[4], &x.argmin_axis::<0>());
    check_indices(&c["argmax_axis1"], &[4], &x.argmax_axis::<1>());
    check_indices(&c["argmin_axis1"], &[4], &x.argmin_axis::<1>());
    c["argmax_all"].check_out_ints(&[], &[x.argmax()]);
    c["argmin_all"].check_out_ints(&[], &[x.argmin()]);
    let case = &c["argmax_axis2_rank3"];
    let x3 = case.input::<Rank3<2, 3, 4>>("x");
    check_index_tensor(case, &x3.argmax_axis::<2>());
    let case = &c["argmin_axis1_rank3"];
    let x3 = case.input::<Rank3<2, 3, 4>>("x");
    check_index_tensor(case, &x3.argmin_axis::<1>());
    let case = &c["argmax_axis1_rank3_keepdim"];
    let x3 = case.input::<Rank3<2, 3, 4>>("x");
    let at: IndexTensor<Rank3<2, 1, 4>, Const<3>> = x3.argmax_axis_keepdim::<1>();
    check_index_tensor(case, &at);
    let case = &c["argmin_axis0_rank4"];
    let x4 = case.input::<(usize, Const<2>, Const<2>, usize)>("x");
    check_index_tensor(case, &x4.argmin_axis::<0>());
    let case = &c["argmax_runtime_rows_axis1"];
    let rows = case.input::<(usize, Const<3>)>("x");
    let ids: Indices<usize, Const<3>> = rows.argmax_axis::<1>();
    check_indices(case, &[5], &ids);
}

/// The integer input `label` as indices of shape `S` below `bound`.
fn index<S: Shape, V: Dim>(case: &Case, label: &str, bound: V) -> IndexTensor<S, V> {
    let (dims, v) = case.ints(label);
    let shape = S::from_dims(dims).expect("the index's shape");
    let ids: Vec<usize> = v.iter().map(|&i| usize::try_from(i).unwrap()).collect();
    IndexTensor::from_slice_with(shape, bound, &ids).unwrap()
}

#[test]
fn gather() {
    let c = cases();
    let case = &c["gather_axis0_rank2"];
    let ix = index::<Rank2<2, 4>, _>(case, "index", Const::<3>);
    check1::<Rank2<3, 4>, _>(case, "x", |x| x.gather(Axis::<0>, &ix));
    let case = &c["gather_axis1_rank3_smaller_index"];
    let ix = index::<Rank3<2, 5, 3>, _>(case, "index", Const::<3>);
    check1::<Rank3<2, 3, 4>, _>(case, "x", |x| x.gather(Axis::<1>, &ix));
    let case = &c["gather_axis2_rank3"];
    let ix = index::<Rank3<1, 2, 6>, _>(case, "index", Const::<4>);
    check1::<Rank3<2, 3, 4>, _>(case, "x", |x| x.gather(Axis::<2>, &ix));
    let case = &c["gather_axis1_rank4"];
    let ix = index::<Rank4<2, 4, 2, 1>, _>(case, "index", Const::<3>);
    check1::<Rank4<2, 3, 2, 2>, _>(case, "x", |x| x.gather(Axis::<1>, &ix));
    let case = &c["gather_edge_values"];
    let ix = index::<Rank2<2, 4>, _>(case, "index", Const::<3>);
    check1::<Rank2<2, 3>, _>(case, "x", |x| x.gather(Axis::<1>, &ix));
    let case = &c["gather_runtime_rows_axis1"];
    let ix = index::<(usize, Const<2>), _>(case, "index", 3_usize);
    check1::<(usize, usize), _>(case, "x", |x| x.gather(Axis::<1>, &ix));
}

#[test]
fn var_and_std() {
    let c = cases();
    for k in [0, 1] {
        check1::<Rank2<3, 4>, Rank0>(&c[&format!("var_all_c{k}")], "x", |x| x.var(k));
        check1::<Rank2<3, 4>, Rank0>(&c[&format!("std_all_c{k}")], "x", |x| x.std(k));
        type S = Rank3<2, 3, 4>;
        check1::<S, _>(&c[&format!("var_axis0_c{k}")], "x", |x| x.var_axis::<0>(k));
        check1::<S, _>(&c[&format!("var_axis1_c{k}")], "x", |x| x.var_axis::<1>(k));
        check1::<S, _>(&c[&format!("var_axis2_c{k}")], "x", |x| x.var_axis::<2>(k));
        check1::<S, _>(&c[&format!("std_axis0_c{k}")], "x", |x| x.std_axis::<0>(k));
        check1::<S, _>(&c[&format!("std_axis1_c{k}")], "x", |x| x.std_axis::<1>(k));
        check1::<S, _>(&c[&format!("std_axis2_c{k}")], "x", |x| x.std_axis::<2>(k));
        let single = format!("var_single_element_axis_c{k}");
        check1::<Rank2<3, 1>, _>(&c[&single], "x", |x| x.var_axis::<1>(k));
        let single = format!("std_single_element_axis_c{k}");
        check1::<Rank2<3, 1>, _>(&c[&single], "x", |x| x.std_axis::<1>(k));
    }
    check1::<Rank2<2, 3>, _>(&c["std_equal_elements"], "x", |x| x.std_axis::<1>(1));
    check1::<Rank2<3, 3>, _>(&c["var_nan_and_inf"], "x", |x| x.var_axis::<1>(1));
    check1::<(usize, Const<3>), _>(&c["var_runtime_rows_axis0"], "x", |x| x.var_axis::<0>(1));
}

#[test]
fn var_and_std_keepdim_and_fractional_corrections() {
    let c = cases();
    type S = Rank3<2, 3, 4>;
    check1::<S, _>(&c["var_axis1_keepdim_c0.5"], "x", |x| {
        x.var_axis_keepdim::<1>(0.5)
    });
    check1::<S, _>(&c["std_axis2_keepdim_c1.5"], "x", |x| {
        x.std_axis_keepdim::<2>(1.5)
    });
    check1::<Rank2<3, 4>, _>(&c["var_axis0_keepdim_c1"], "x", |x| {
        x.var_axis_keepdim::<0>(1)
    });
    check1::<Rank2<3, 4>, Rank0>(&c["var_all_c2.5"], "x", |x| x.var(2.5));
    let case = &c["var_correction_beyond_count"];
    case.check_out(&case.input::<Rank2<2, 2>>("x").var_axis::<1>(3.5), RTOL);
    check1::<(usize, Const<3>), _>(&c["std_runtime_rows_axis1_keepdim_c0.5"], "x", |x| {
        x.std_axis_keepdim::<1>(0.5)
    });
}

#[test]
fn sums_and_means_over_several_axes() {
    let c = cases();
    check1::<Rank3<2, 3, 4>, _>(&c["sum_axes_0_2"], "x", |x| x.sum_axes::<Axes2<0, 2>>());
    check1::<Rank4<2, 3, 2, 2>, _>(&c["sum_axes_1_3_keepdim"], "x", |x| {
        x.sum_axes_keepdim::<Axes2<1, 3>>()
    });
    check1::<Rank4<2, 3, 2, 2>, _>(&c["sum_axes_0_1_3"], "x", |x| {
        x.sum_axes::<Axes3<0, 1, 3>>()
    });
    check1::<Rank3<2, 3, 4>, _>(&c["mean_axes_0_2"], "x", |x| x.mean_axes::<Axes2<0, 2>>());
    check1::<Rank3<2, 3, 4>, _>(&c["mean_axes_1_2_keepdim"], "x", |x| {
        x.mean_axes_keepdim::<Axes2<1, 2>>()
    });
    check1::<Rank3<2, 2, 2>, _>(&c["sum_axes_edge_values"], "x", |x| {
        x.sum_axes::<Axes2<0, 1>>()
    });
    check1::<Rank3<2, 3, 2>, _>(&c["sum_keepdim_rank3"], "x", |x| x.sum_keepdim());
    check1::<Rank2<3, 4>, _>(&c["mean_keepdim_rank2"], "x", |x| x.mean_keepdim());
    type Rows = (usize, Const<2>, Const<3>);
    check1::<Rows, _>(&c["sum_axes_runtime_rows_0_2"], "x", |x| {
        x.sum_axes::<Axes2<0, 2>>()
    });
    check1::<Rows, _>(&c["mean_axes_runtime_rows_1_2"], "x", |x| {
        x.mean_axes::<Axes2<1, 2>>()
    });
}
