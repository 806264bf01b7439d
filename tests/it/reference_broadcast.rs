//! Broadcasting against PyTorch: `+`, `-`, `*`, `/` between shapes that broadcast (a row and a
//! matrix, a scalar tensor and any shape, a run-time batch and a row of one), and matmul's batch
//! axes (ranks 3 and 4 aligned on the last, a batch axis of 1 that repeats, static and run-time):
//! values and the gradients of `sum(out * up)`, from `scripts/reference_broadcast.py` (PyTorch,
//! float64) in `tests/data/reference/broadcast.txt`.

use crate::reference::{Case, load};
use shaped::{BroadcastShapes, Const, Rank0, Rank1, Rank2, Rank3, Rank4, Shape, Tape, Tensor};

/// Sums of a few products: rounding only.
const RTOL: f64 = 1e-12;

type Taped<S> = Tensor<S, f64, Tape<f64>>;

/// Checks `f(a, b)` and the gradients of `sum(f(a, b) * up)` against the case.
fn check<S1: Shape, S2: Shape, S3: Shape>(
    case: &Case,
    f: impl Fn(&Taped<S1>, &Taped<S2>) -> Taped<S3>,
) {
    let (a, b) = (
        case.input::<S1>(labels(case)[0]),
        case.input::<S2>(labels(case)[1]),
    );
    let tape = Tape::new();
    let (at, bt) = (tape.watch(&a), tape.watch(&b));
    let y = f(&at, &bt);
    case.check_out(&y, RTOL);
    let grads = (y * &case.up::<S3>()).sum().backward();
    case.check_grad(labels(case)[0], &grads, &at, RTOL);
    case.check_grad(labels(case)[1], &grads, &bt, RTOL);
}

/// The two inputs' labels: `s` names a scalar operand.
fn labels(case: &Case) -> [&'static str; 2] {
    match case.name.as_str() {
        "mul_scalar_2x3" => ["s", "a"],
        "div_2x2x2x3_scalar" => ["a", "s"],
        _ => ["a", "b"],
    }
}

/// The operator form `a op b`, with the output type the broadcast rule gives.
fn add<S1: BroadcastShapes<S2>, S2: Shape>(a: &Taped<S1>, b: &Taped<S2>) -> Taped<S1::Output> {
    a + b
}

#[test]
fn elementwise_ops() {
    let c = load("broadcast");
    check::<Rank2<2, 3>, Rank1<3>, Rank2<2, 3>>(&c["add_2x3_3"], add);
    check::<Rank1<3>, Rank2<2, 3>, Rank2<2, 3>>(&c["sub_3_2x3"], |a, b| a - b);
    check::<Rank3<2, 3, 4>, Rank2<3, 4>, Rank3<2, 3, 4>>(&c["mul_2x3x4_3x4"], |a, b| a * b);
    check::<Rank1<4>, Rank3<2, 3, 4>, Rank3<2, 3, 4>>(&c["div_4_2x3x4"], |a, b| a / b);
    check::<Rank0, Rank2<2, 3>, Rank2<2, 3>>(&c["mul_scalar_2x3"], |s, a| s * a);
    check::<Rank4<2, 2, 2, 3>, Rank0, Rank4<2, 2, 2, 3>>(&c["div_2x2x2x3_scalar"], |a, s| a / s);
    check::<Rank2<2, 3>, Rank1<3>, Rank2<2, 3>>(&c["add_edge_values_2x3_3"], add);
}

#[test]
fn elementwise_ops_on_run_time_rows() {
    let c = load("broadcast");
    type Rows<const N: usize> = (usize, Const<N>);
    // 4 rows times 1 row: the run-time size of 1 stretches
    check::<Rows<3>, Rows<3>, Rows<3>>(&c["mul_runtime_4x3_1x3"], |a, b| a * b);
    check::<Rows<2>, Rank1<2>, Rows<2>>(&c["sub_runtime_5x2_2"], |a, b| a - b);
}

#[test]
fn matmul_batch_axes() {
    let c = load("broadcast");
    check::<Rank4<2, 1, 3, 4>, Rank3<3, 4, 2>, Rank4<2, 3, 3, 2>>(
        &c["matmul_2x1x3x4_3x4x2"],
        |a, b| a.matmul_to(b),
    );
    check::<Rank4<2, 3, 2, 4>, Rank3<3, 4, 5>, Rank4<2, 3, 2, 5>>(
        &c["matmul_2x3x2x4_3x4x5"],
        |a, b| a.matmul(b),
    );
    check::<Rank3<3, 2, 4>, Rank4<2, 3, 4, 5>, Rank4<2, 3, 2, 5>>(
        &c["matmul_3x2x4_2x3x4x5"],
        |a, b| a.matmul(b),
    );
    // both sides repeat: (1, 3) and (2, 1) batch axes give (2, 3)
    check::<Rank4<1, 3, 2, 2>, Rank4<2, 1, 2, 3>, Rank4<2, 3, 2, 3>>(
        &c["matmul_1x3x2x2_2x1x2x3"],
        |a, b| a.matmul_to(b),
    );
    // a run-time batch of one matrix against a run-time batch of four
    type Batch<const M: usize, const N: usize> = (usize, Const<M>, Const<N>);
    check::<Batch<2, 3>, Batch<3, 2>, Batch<2, 2>>(&c["matmul_runtime_1x2x3_4x3x2"], |a, b| {
        a.matmul(b)
    });
}
