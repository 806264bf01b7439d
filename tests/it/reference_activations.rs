//! The activations and elementary functions against PyTorch 2.15 in float64
//! (`scripts/reference_activations.py` recorded the values and gradients in
//! `tests/data/reference/activations.txt`): random inputs, edge values (large inputs of both signs,
//! signed zeros, the softplus threshold, the hardtanh bounds) and NaN.

use crate::reference;
use shaped::{Rank2, Shape, Tape, Tensor};

type Op = fn(&Tensor<(usize,), f64, Tape<f64>>) -> Tensor<(usize,), f64, Tape<f64>>;
type OpM = fn(&Tensor<Rank2<3, 4>, f64, Tape<f64>>) -> Tensor<Rank2<3, 4>, f64, Tape<f64>>;

/// Every op of the fixture, for run-time (`(usize,)`) and static (`Rank2<3, 4>`) shapes.
macro_rules! ops {
    ($($name:literal => |$x:ident| $body:expr,)*) => {
        const OPS: &[(&str, Op, OpM)] = &[$(($name, |$x| $body, |$x| $body),)*];
    };
}

ops! {
    "gelu" => |x| x.gelu(),
    "gelu_tanh" => |x| x.gelu_tanh(),
    "silu" => |x| x.silu(),
    "softplus" => |x| x.softplus(),
    "softplus_with" => |x| x.softplus_with(2.0, 3.0),
    "leaky_relu" => |x| x.leaky_relu(0.1),
    "elu" => |x| x.elu(0.7),
    "log_sigmoid" => |x| x.log_sigmoid(),
    "hardtanh" => |x| x.hardtanh(-0.5, 2.0),
    "log1p" => |x| x.log1p(),
    "expm1" => |x| x.expm1(),
    "erf" => |x| x.erf(),
    "sin" => |x| x.sin(),
    "cos" => |x| x.cos(),
    "square" => |x| x.square(),
    "recip" => |x| x.recip(),
}

/// Relative tolerance: the kernels are within a few ulp of the exact values, and so is PyTorch.
const RTOL: f64 = 1e-14;

fn check<S: Shape>(
    case: &reference::Case,
    op: impl Fn(&Tensor<S, f64, Tape<f64>>) -> Tensor<S, f64, Tape<f64>>,
    grads: bool,
) {
    let x: Tensor<S, f64> = case.input("x");
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let y = op(&xt);
    case.check_out(&y, RTOL);
    if grads {
        let up: Tensor<S, f64> = case.up();
        let g = (y * up).sum().backward();
        case.check_grad("x", &g, &xt, RTOL);
    }
}

#[test]
fn values_and_gradients_match_pytorch() {
    let cases = reference::load("activations");
    for &(name, op, op_m) in OPS {
        check::<Rank2<3, 4>>(&cases[name], op_m, true);
        check::<(usize,)>(&cases[&format!("{name}_edge")], op, true);
        check::<(usize,)>(&cases[&format!("{name}_nan")], op, false);
    }
}
