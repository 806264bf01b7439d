//! Property tests: every op that records a backward, and every loss, on many compile-time shapes
//! and random values, checked against central finite differences in f64 ([`GradCheck`], which
//! names the worst element on failure); and the algebraic identities between the ops.
//!
//! Each property is written once and instantiated for a list of shapes by [`property!`]. Inputs
//! are drawn inside each op's domain: away from the kinks of `abs` and `relu`, positive for `ln`,
//! `sqrt` and fractional powers, without ties for `max`.
//!
//! `cargo test` runs [`CASES`] cases per property and shape, from a fixed seed, so a run is
//! reproducible. To explore further, set proptest's variables:
//! `PROPTEST_CASES=2000 PROPTEST_RNG_SEED=7 cargo test --test it properties::`.

use core::fmt::Debug;

use approx::assert_relative_eq;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngSeed, TestCaseResult, TestRunner};
use shaped::nn::{Labels, binary_cross_entropy_with_logits, cross_entropy, mse};
use shaped::{
    Axes2, Axes3, Axes4, Const, GradCheck, InnerShape, MatMulShape, NoBias, PermuteTo, Rank0,
    Rank1, Rank2, Rank3, Rank4, Rank5, Rank6, ReduceAxis, StaticShape, Tape, Tensor, Transposable,
};

/// Cases per property and shape when `PROPTEST_CASES` is not set.
const CASES: u32 = 256;
/// The seed when `PROPTEST_RNG_SEED` is not set.
const SEED: u64 = 0x5eed_5a9e;

type T<S> = Tensor<S, f64>;
type X<S> = Tensor<S, f64, Tape<f64>>;
type Loss = Tensor<Rank0, f64, Tape<f64>>;

fn config() -> Config {
    // `Config::default()` reads the PROPTEST_* variables.
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = CASES;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(SEED);
    }
    config.failure_persistence = None;
    config
}

/// How the values of one argument are drawn. Every argument is drawn as a `Vec<f64>` and then built
/// by [`Draw`], so the test runner is compiled once per number of arguments, not once per shape.
#[derive(Clone, Copy, Debug)]
enum Values {
    /// Uniform in `[lo, hi)`.
    Uniform(f64, f64),
    /// Magnitudes uniform in `[lo, hi)`, either sign: away from 0 (a kink, a pole).
    AwayFromZero(f64, f64),
    /// Distinct values, any two at least 0.05 apart, in a random order: no ties, so `max` is
    /// differentiable and a central difference never crosses from one maximum to another.
    Distinct,
    /// One of the listed values.
    OneOf(&'static [f64]),
}

fn uniform(lo: f64, hi: f64) -> Values {
    Values::Uniform(lo, hi)
}

fn away_from_zero(lo: f64, hi: f64) -> Values {
    Values::AwayFromZero(lo, hi)
}

fn distinct() -> Values {
    Values::Distinct
}

fn one_of(values: &'static [f64]) -> Values {
    Values::OneOf(values)
}

impl Values {
    /// `n` values.
    fn strategy(self, n: usize) -> BoxedStrategy<Vec<f64>> {
        match self {
            Values::Uniform(lo, hi) => vec(lo..hi, n).boxed(),
            Values::AwayFromZero(lo, hi) => vec((lo..hi, any::<bool>()), n)
                .prop_map(|v| {
                    v.into_iter()
                        .map(|(m, neg)| if neg { -m } else { m })
                        .collect()
                })
                .boxed(),
            Values::Distinct => {
                let grid: Vec<f64> = (0..n).map(|i| 0.1 * i as f64 - 0.05 * n as f64).collect();
                (Just(grid).prop_shuffle(), vec(0.0..0.05, n))
                    .prop_map(|(grid, jitter)| {
                        grid.iter().zip(&jitter).map(|(g, j)| g + j).collect()
                    })
                    .boxed()
            }
            Values::OneOf(list) => vec(select(list), n).boxed(),
        }
    }
}

/// A test argument built from drawn values.
trait Draw {
    /// How many values it takes.
    const LEN: usize;
    /// Builds it from exactly `LEN` values.
    fn draw(values: Vec<f64>) -> Self;
}

impl<S: StaticShape> Draw for Tensor<S, f64> {
    const LEN: usize = S::NUMEL;
    fn draw(values: Vec<f64>) -> Self {
        Tensor::from_vec(values).expect("NUMEL values")
    }
}

impl Draw for f64 {
    const LEN: usize = 1;
    fn draw(values: Vec<f64>) -> Self {
        values[0]
    }
}

/// The integer part.
impl Draw for i32 {
    const LEN: usize = 1;
    #[allow(clippy::cast_possible_truncation)]
    fn draw(values: Vec<f64>) -> Self {
        values[0].floor() as i32
    }
}

/// Values in `[0, 1)` scaled to class ids in `0..C`.
impl<const B: usize, const C: usize> Draw for Labels<Const<B>, C> {
    const LEN: usize = B;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    fn draw(values: Vec<f64>) -> Self {
        let ids: Vec<usize> = values
            .iter()
            .map(|v| ((v * C as f64) as usize).min(C - 1))
            .collect();
        Labels::from_slice(&ids).expect("ids below C")
    }
}

/// Runs `test` on values drawn from `strategy`; on failure, panics with proptest's report (the
/// minimal failing input and the message of the check that failed).
fn run<V: Debug>(
    name: &str,
    strategy: impl Strategy<Value = V>,
    test: &dyn Fn(V) -> TestCaseResult,
) {
    let mut runner = TestRunner::new(config());
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
}

/// Checks the tape's gradient of `f` at `x` against central differences ([`GradCheck::default`]).
/// `what` names the derivative in the failure message, which also names the worst element.
fn grad<S: StaticShape>(
    what: &str,
    f: &dyn Fn(X<S>) -> Loss,
    x: &Tensor<S, f64>,
) -> TestCaseResult {
    GradCheck::default()
        .run(f, x)
        .map_err(|e| TestCaseError::fail(format!("{what} on shape {:?}: {e}", S::DIMS)))
}

/// Instantiates a property for a list of shapes: one `#[test]` per case, in a module named after
/// the property. Each case is a block of items (`type S = ..;`, `const AX: usize = ..;`) in scope
/// for the arguments and the body. Each argument names its type and how its values are drawn.
///
/// ```text
/// property! {
///     name for [case1 { type S = Rank1<3>; } case2 { .. }]
///     { x: T<S> = uniform(-2.0, 2.0), .. } => { body returning TestCaseResult }
/// }
/// ```
macro_rules! property {
    (
        $(#[$doc:meta])*
        $name:ident for [$($case:ident $items:tt)*]
        $args:tt => $body:block
    ) => {
        $(#[$doc])*
        mod $name {
            use super::*;
            $( property!(@case $case $items $args $body); )*
        }
    };
    (
        @case $case:ident { $($item:item)* }
        { $($arg:ident: $ty:ty = $values:expr),* $(,)? } $body:block
    ) => {
        #[test]
        fn $case() {
            $($item)*
            run(
                concat!(module_path!(), "::", stringify!($case)),
                ($( Values::strategy($values, <$ty as Draw>::LEN), )*),
                &|($($arg,)*)| {
                    $( let $arg = <$ty as Draw>::draw($arg); )*
                    $body
                },
            );
        }
    };
}

// ------------------------------------------------------------------------------------------------
// Gradients of the elementwise ops.
// ------------------------------------------------------------------------------------------------

property! {
    /// `a + b`, `a + s`, `s + a`.
    add for [
        s { type S = Rank0; } v7 { type S = Rank1<7>; } m34 { type S = Rank2<3, 4>; }
        t213 { type S = Rank3<2, 1, 3>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        a: T<S> = uniform(-2.0, 2.0), b: T<S> = uniform(-2.0, 2.0),
        w: T<S> = uniform(-2.0, 2.0), s: f64 = uniform(-2.0, 2.0),
    } => {
        grad("d/da (a + b)", &|a| ((a + &b) * &w).sum(), &a)?;
        grad("d/db (a + b)", &|b| ((&a + b) * &w).sum(), &b)?;
        grad("d/da (a + s)", &|a| ((a + s) * &w).sum(), &a)?;
        grad("d/da (s + a)", &|a| ((s + a) * &w).sum(), &a)
    }
}

property! {
    /// `a - b`, `a - s`, `s - a`.
    sub for [
        s { type S = Rank0; } v7 { type S = Rank1<7>; } m34 { type S = Rank2<3, 4>; }
        t213 { type S = Rank3<2, 1, 3>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        a: T<S> = uniform(-2.0, 2.0), b: T<S> = uniform(-2.0, 2.0),
        w: T<S> = uniform(-2.0, 2.0), s: f64 = uniform(-2.0, 2.0),
    } => {
        grad("d/da (a - b)", &|a| ((a - &b) * &w).sum(), &a)?;
        grad("d/db (a - b)", &|b| ((&a - b) * &w).sum(), &b)?;
        grad("d/da (a - s)", &|a| ((a - s) * &w).sum(), &a)?;
        grad("d/da (s - a)", &|a| ((s - a) * &w).sum(), &a)
    }
}

property! {
    /// `a * b`, `a * s`, `s * a`, and `a * a` (one operand used twice).
    mul for [
        s { type S = Rank0; } v7 { type S = Rank1<7>; } m34 { type S = Rank2<3, 4>; }
        t213 { type S = Rank3<2, 1, 3>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        a: T<S> = uniform(-2.0, 2.0), b: T<S> = uniform(-2.0, 2.0),
        w: T<S> = uniform(-2.0, 2.0), s: f64 = uniform(-2.0, 2.0),
    } => {
        grad("d/da (a * b)", &|a| ((a * &b) * &w).sum(), &a)?;
        grad("d/db (a * b)", &|b| ((&a * b) * &w).sum(), &b)?;
        grad("d/da (a * s)", &|a| ((a * s) * &w).sum(), &a)?;
        grad("d/da (s * a)", &|a| ((s * a) * &w).sum(), &a)?;
        grad("d/da (a * a)", &|a| ((&a * &a) * &w).sum(), &a)
    }
}

property! {
    /// `a / b`, `a / s`, `s / b`, with divisors of magnitude in `[0.5, 2)`.
    div for [
        s { type S = Rank0; } v7 { type S = Rank1<7>; } m34 { type S = Rank2<3, 4>; }
        t213 { type S = Rank3<2, 1, 3>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        a: T<S> = uniform(-2.0, 2.0), b: T<S> = away_from_zero(0.5, 2.0),
        w: T<S> = uniform(-2.0, 2.0), s: f64 = uniform(0.5, 2.0),
    } => {
        grad("d/da (a / b)", &|a| ((a / &b) * &w).sum(), &a)?;
        grad("d/db (a / b)", &|b| ((&a / b) * &w).sum(), &b)?;
        grad("d/da (a / s)", &|a| ((a / -s) * &w).sum(), &a)?;
        grad("d/db (s / b)", &|b| ((s / b) * &w).sum(), &b)
    }
}

property! {
    /// `-a`.
    neg for [
        s { type S = Rank0; } v7 { type S = Rank1<7>; } m34 { type S = Rank2<3, 4>; }
        t213 { type S = Rank3<2, 1, 3>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        a: T<S> = uniform(-2.0, 2.0), w: T<S> = uniform(-2.0, 2.0),
    } => {
        grad("d/da -a", &|a| ((-a) * &w).sum(), &a)
    }
}

property! {
    /// `|x|` and `relu(x)`, with `|x| >= 0.01` (the kink at 0 is 10^4 steps away).
    abs_relu for [
        s { type S = Rank0; } v7 { type S = Rank1<7>; } m34 { type S = Rank2<3, 4>; }
        t213 { type S = Rank3<2, 1, 3>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        x: T<S> = away_from_zero(0.01, 2.0), w: T<S> = uniform(-2.0, 2.0),
    } => {
        grad("d/dx |x|", &|x| (x.abs() * &w).sum(), &x)?;
        grad("d/dx relu(x)", &|x| (x.relu() * &w).sum(), &x)
    }
}

property! {
    /// `exp`, `tanh` and `sigmoid`, on `[-4, 4)`.
    exp_tanh_sigmoid for [
        s { type S = Rank0; } v7 { type S = Rank1<7>; } m34 { type S = Rank2<3, 4>; }
        t213 { type S = Rank3<2, 1, 3>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        x: T<S> = uniform(-4.0, 4.0), w: T<S> = uniform(-2.0, 2.0),
    } => {
        grad("d/dx exp(x)", &|x| (x.exp() * &w).sum(), &x)?;
        grad("d/dx tanh(x)", &|x| (x.tanh() * &w).sum(), &x)?;
        grad("d/dx sigmoid(x)", &|x| (x.sigmoid() * &w).sum(), &x)
    }
}

property! {
    /// `ln` and `sqrt`, on `[0.1, 4)`.
    ln_sqrt for [
        s { type S = Rank0; } v7 { type S = Rank1<7>; } m34 { type S = Rank2<3, 4>; }
        t213 { type S = Rank3<2, 1, 3>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        x: T<S> = uniform(0.1, 4.0), w: T<S> = uniform(-2.0, 2.0),
    } => {
        grad("d/dx ln(x)", &|x| (x.ln() * &w).sum(), &x)?;
        grad("d/dx sqrt(x)", &|x| (x.sqrt() * &w).sum(), &x)
    }
}

property! {
    /// `powi(n)` for `n` in `-3..=4` on either sign, and `powf(p)`: any `p` in `[-2, 3)` on
    /// positive bases, and the whole exponents -1, 2 and 3 on negative bases too.
    pow for [
        s { type S = Rank0; } v7 { type S = Rank1<7>; } m34 { type S = Rank2<3, 4>; }
        t213 { type S = Rank3<2, 1, 3>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        x: T<S> = away_from_zero(0.3, 2.0), pos: T<S> = uniform(0.2, 3.0),
        w: T<S> = uniform(-2.0, 2.0), n: i32 = uniform(-3.0, 5.0), p: f64 = uniform(-2.0, 3.0),
        whole: f64 = one_of(&[-1.0, 2.0, 3.0]),
    } => {
        grad("d/dx x^n", &|x| (x.powi(n) * &w).sum(), &x)?;
        grad("d/dx x^p", &|x| (x.powf(p) * &w).sum(), &pos)?;
        grad("d/dx x^p, whole p", &|x| (x.powf(whole) * &w).sum(), &x)
    }
}

// ------------------------------------------------------------------------------------------------
// Gradients of the layout ops.
// ------------------------------------------------------------------------------------------------

property! {
    /// `reshape` to another shape of the same size.
    reshape for [
        s_v1 { type S = Rank0; type D = Rank1<1>; }
        v6_m23 { type S = Rank1<6>; type D = Rank2<2, 3>; }
        m23_m32 { type S = Rank2<2, 3>; type D = Rank2<3, 2>; }
        t234_m46 { type S = Rank3<2, 3, 4>; type D = Rank2<4, 6>; }
        r4_r6 { type S = Rank4<2, 1, 3, 2>; type D = Rank6<1, 3, 1, 2, 2, 1>; }
        r5_v12 { type S = Rank5<1, 2, 3, 1, 2>; type D = Rank1<12>; }
    ] {
        x: T<S> = uniform(-2.0, 2.0), w: T<D> = uniform(-2.0, 2.0),
    } => {
        grad("d/dx reshape(x)", &|x| (x.reshape::<D>() * &w).sum(), &x)
    }
}

property! {
    /// `transpose` (the last two axes) at every rank from 2 to 6.
    transpose for [
        m11 { type S = Rank2<1, 1>; } m34 { type S = Rank2<3, 4>; } m51 { type S = Rank2<5, 1>; }
        t234 { type S = Rank3<2, 3, 4>; } r4 { type S = Rank4<2, 1, 3, 2>; }
        r5 { type S = Rank5<1, 2, 2, 3, 1>; } r6 { type S = Rank6<1, 2, 1, 2, 2, 3>; }
    ] {
        x: T<S> = uniform(-2.0, 2.0),
        w: T<<S as Transposable>::Output> = uniform(-2.0, 2.0),
    } => {
        grad("d/dx transpose(x)", &|x| (x.transpose() * &w).sum(), &x)
    }
}

property! {
    /// `permute` with permutations of rank 2, 3 and 4.
    permute for [
        m34_10 { type S = Rank2<3, 4>; type P = Axes2<1, 0>; }
        t234_201 { type S = Rank3<2, 3, 4>; type P = Axes3<2, 0, 1>; }
        t234_120 { type S = Rank3<2, 3, 4>; type P = Axes3<1, 2, 0>; }
        t214_021 { type S = Rank3<2, 1, 4>; type P = Axes3<0, 2, 1>; }
        r4_3120 { type S = Rank4<2, 3, 1, 2>; type P = Axes4<3, 1, 2, 0>; }
        r4_1032 { type S = Rank4<2, 3, 2, 2>; type P = Axes4<1, 0, 3, 2>; }
    ] {
        x: T<S> = uniform(-2.0, 2.0),
        w: T<<S as PermuteTo<P>>::Output> = uniform(-2.0, 2.0),
    } => {
        grad("d/dx permute(x)", &|x| (x.permute::<P>() * &w).sum(), &x)
    }
}

property! {
    /// `broadcast_to`: new leading axes, stretched axes of size 1, and both.
    broadcast for [
        s_m23 { type S = Rank0; type D = Rank2<2, 3>; }
        v3_m43 { type S = Rank1<3>; type D = Rank2<4, 3>; }
        v1_v5 { type S = Rank1<1>; type D = Rank1<5>; }
        m21_t223 { type S = Rank2<2, 1>; type D = Rank3<2, 2, 3>; }
        m13_r4 { type S = Rank2<1, 3>; type D = Rank4<2, 1, 4, 3>; }
        t213_t243 { type S = Rank3<2, 1, 3>; type D = Rank3<2, 4, 3>; }
        t111_r6 { type S = Rank3<1, 1, 1>; type D = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        x: T<S> = uniform(-2.0, 2.0), w: T<D> = uniform(-2.0, 2.0),
    } => {
        grad("d/dx broadcast_to(x)", &|x| (x.broadcast_to::<D>() * &w).sum(), &x)
    }
}

// ------------------------------------------------------------------------------------------------
// Gradients of the reductions.
// ------------------------------------------------------------------------------------------------

property! {
    /// `sum`, `mean`, `max` and `logsumexp` of all elements (`max` on distinct values).
    reduce_all for [
        s { type S = Rank0; } v1 { type S = Rank1<1>; } v7 { type S = Rank1<7>; }
        m34 { type S = Rank2<3, 4>; } t213 { type S = Rank3<2, 1, 3>; }
        r4 { type S = Rank4<1, 2, 2, 2>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        x: T<S> = uniform(-2.0, 2.0), d: T<S> = distinct(),
    } => {
        grad("d/dx sum(x)^2", &|x| x.sum() * x.sum(), &x)?;
        grad("d/dx mean(x)^2", &|x| x.mean() * x.mean(), &x)?;
        grad("d/dx max(x)^2", &|x| x.max() * x.max(), &d)?;
        grad("d/dx logsumexp(x)^2", &|x| x.logsumexp() * x.logsumexp(), &x)
    }
}

property! {
    /// `sum_axis`, `mean_axis`, `max_axis` and `logsumexp_axis`, and their `keepdim` forms, along
    /// every axis of shapes of rank 1 to 4.
    reduce_axis for [
        v5_0 { type S = Rank1<5>; const AX: usize = 0; }
        m34_0 { type S = Rank2<3, 4>; const AX: usize = 0; }
        m34_1 { type S = Rank2<3, 4>; const AX: usize = 1; }
        m15_0 { type S = Rank2<1, 5>; const AX: usize = 0; }
        t234_0 { type S = Rank3<2, 3, 4>; const AX: usize = 0; }
        t234_1 { type S = Rank3<2, 3, 4>; const AX: usize = 1; }
        t234_2 { type S = Rank3<2, 3, 4>; const AX: usize = 2; }
        r4_2 { type S = Rank4<2, 1, 3, 2>; const AX: usize = 2; }
        r4_3 { type S = Rank4<2, 1, 3, 2>; const AX: usize = 3; }
    ] {
        x: T<S> = uniform(-2.0, 2.0), d: T<S> = distinct(),
        w: T<<S as ReduceAxis<AX>>::Reduced> = uniform(-2.0, 2.0),
        k: T<<S as ReduceAxis<AX>>::KeepDim> = uniform(-2.0, 2.0),
    } => {
        grad("d/dx sum_axis", &|x| (x.sum_axis::<AX>() * &w).sum(), &x)?;
        grad("d/dx sum_axis_keepdim", &|x| (x.sum_axis_keepdim::<AX>() * &k).sum(), &x)?;
        grad("d/dx mean_axis", &|x| (x.mean_axis::<AX>() * &w).sum(), &x)?;
        grad("d/dx mean_axis_keepdim", &|x| (x.mean_axis_keepdim::<AX>() * &k).sum(), &x)?;
        grad("d/dx max_axis", &|x| (x.max_axis::<AX>() * &w).sum(), &d)?;
        grad("d/dx max_axis_keepdim", &|x| (x.max_axis_keepdim::<AX>() * &k).sum(), &d)?;
        grad("d/dx logsumexp_axis", &|x| (x.logsumexp_axis::<AX>() * &w).sum(), &x)?;
        grad(
            "d/dx logsumexp_axis_keepdim",
            &|x| (x.logsumexp_axis_keepdim::<AX>() * &k).sum(),
            &x,
        )
    }
}

property! {
    /// `softmax` and `log_softmax` along every axis of shapes of rank 1 to 4.
    softmax for [
        v5_0 { type S = Rank1<5>; const AX: usize = 0; }
        m34_0 { type S = Rank2<3, 4>; const AX: usize = 0; }
        m34_1 { type S = Rank2<3, 4>; const AX: usize = 1; }
        m41_1 { type S = Rank2<4, 1>; const AX: usize = 1; }
        t234_0 { type S = Rank3<2, 3, 4>; const AX: usize = 0; }
        t234_1 { type S = Rank3<2, 3, 4>; const AX: usize = 1; }
        t234_2 { type S = Rank3<2, 3, 4>; const AX: usize = 2; }
        r4_1 { type S = Rank4<2, 3, 1, 2>; const AX: usize = 1; }
        r4_3 { type S = Rank4<2, 3, 1, 2>; const AX: usize = 3; }
    ] {
        x: T<S> = uniform(-3.0, 3.0), w: T<S> = uniform(-2.0, 2.0),
    } => {
        grad("d/dx softmax", &|x| (x.softmax::<AX>() * &w).sum(), &x)?;
        grad("d/dx log_softmax", &|x| (x.log_softmax::<AX>() * &w).sum(), &x)
    }
}

// ------------------------------------------------------------------------------------------------
// Gradients of the contractions.
// ------------------------------------------------------------------------------------------------

property! {
    /// `matmul` for every row of the table at `MatMulShape`: matrices, vectors on either side,
    /// batches on both sides or on one, with dimensions of 1.
    matmul for [
        mk_kn { type A = Rank2<3, 4>; type B = Rank2<4, 2>; }
        one { type A = Rank2<1, 1>; type B = Rank2<1, 1>; }
        k_kn { type A = Rank1<4>; type B = Rank2<4, 3>; }
        mk_k { type A = Rank2<3, 4>; type B = Rank1<4>; }
        k_k { type A = Rank1<5>; type B = Rank1<5>; }
        bmk_bkn { type A = Rank3<2, 3, 4>; type B = Rank3<2, 4, 2>; }
        bmk_kn { type A = Rank3<2, 3, 4>; type B = Rank2<4, 2>; }
        bmk_k { type A = Rank3<2, 3, 4>; type B = Rank1<4>; }
        mk_bkn { type A = Rank2<3, 4>; type B = Rank3<2, 4, 2>; }
        k_bkn { type A = Rank1<4>; type B = Rank3<2, 4, 2>; }
        bcmk_bckn { type A = Rank4<2, 2, 1, 3>; type B = Rank4<2, 2, 3, 2>; }
        bcmk_kn { type A = Rank4<2, 1, 2, 3>; type B = Rank2<3, 2>; }
        mk_bckn { type A = Rank2<2, 3>; type B = Rank4<1, 2, 3, 2>; }
        k_bckn { type A = Rank1<3>; type B = Rank4<2, 1, 3, 2>; }
    ] {
        a: T<A> = uniform(-2.0, 2.0), b: T<B> = uniform(-2.0, 2.0),
        w: T<<A as MatMulShape<B>>::Output> = uniform(-2.0, 2.0),
    } => {
        grad("d/da matmul(a, b)", &|a| (a.matmul(&b) * &w).sum(), &a)?;
        grad("d/db matmul(a, b)", &|b| (a.matmul(&b) * &w).sum(), &b)?;
        // Both operands on the tape, one of them used twice.
        grad(
            "d/da matmul(a, b) with a twice",
            &|at| (at.matmul(&b) * &w).sum() + (&at * &at).sum(),
            &a,
        )
    }
}

property! {
    /// `inner` for pairs of ranks 1 to 4.
    inner for [
        k_k { type A = Rank1<4>; type B = Rank1<4>; }
        k_nk { type A = Rank1<3>; type B = Rank2<2, 3>; }
        mk_k { type A = Rank2<2, 3>; type B = Rank1<3>; }
        mk_nk { type A = Rank2<3, 4>; type B = Rank2<2, 4>; }
        one { type A = Rank2<1, 1>; type B = Rank2<1, 1>; }
        t_m { type A = Rank3<2, 3, 2>; type B = Rank2<4, 2>; }
        m_t { type A = Rank2<2, 3>; type B = Rank3<2, 1, 3>; }
        r4_t { type A = Rank4<1, 2, 2, 3>; type B = Rank3<2, 1, 3>; }
    ] {
        a: T<A> = uniform(-2.0, 2.0), b: T<B> = uniform(-2.0, 2.0),
        w: T<<A as InnerShape<B>>::Output> = uniform(-2.0, 2.0),
    } => {
        grad("d/da inner(a, b)", &|a| (a.inner(&b) * &w).sum(), &a)?;
        grad("d/db inner(a, b)", &|b| (a.inner(&b) * &w).sum(), &b)
    }
}

property! {
    /// `linear` without bias, with an `[OUT]` bias and with a `[1, OUT]` bias, for inputs of rank
    /// 1 to 4: the gradients of the input, the weight and the bias.
    linear for [
        v { type S = Rank1<3>; type W = Rank2<2, 3>; type O = Rank1<2>; }
        one { type S = Rank2<1, 1>; type W = Rank2<1, 1>; type O = Rank2<1, 1>; }
        m { type S = Rank2<4, 3>; type W = Rank2<5, 3>; type O = Rank2<4, 5>; }
        t { type S = Rank3<2, 3, 4>; type W = Rank2<2, 4>; type O = Rank3<2, 3, 2>; }
        r4 { type S = Rank4<2, 1, 2, 3>; type W = Rank2<3, 3>; type O = Rank4<2, 1, 2, 3>; }
    ] {
        x: T<S> = uniform(-2.0, 2.0), wt: T<W> = uniform(-2.0, 2.0),
        b: T<Rank1<{ W::DIMS[0] }>> = uniform(-2.0, 2.0), w: T<O> = uniform(-2.0, 2.0),
    } => {
        let b2 = b.reshape::<Rank2<1, { W::DIMS[0] }>>();
        grad("d/dx linear(x, W)", &|x| (x.linear(&wt, NoBias) * &w).sum(), &x)?;
        grad("d/dx linear(x, W, b)", &|x| (x.linear(&wt, &b) * &w).sum(), &x)?;
        grad("d/dW linear(x, W)", &|wt| (x.linear(&wt, NoBias) * &w).sum(), &wt)?;
        grad("d/dW linear(x, W, b)", &|wt| (x.linear(&wt, &b2) * &w).sum(), &wt)?;
        grad("d/db linear(x, W, b)", &|b| (x.linear(&wt, &b) * &w).sum(), &b)?;
        grad("d/db linear(x, W, [1, OUT] b)", &|b2| (x.linear(&wt, &b2) * &w).sum(), &b2)
    }
}

property! {
    /// `bilinear` with and without bias, for inputs of rank 1 to 3: the gradients of both inputs,
    /// the weight and the bias.
    bilinear for [
        v { type S1 = Rank1<2>; type S2 = Rank1<3>; type W = Rank3<2, 2, 3>; type O = Rank1<2>; }
        one {
            type S1 = Rank2<1, 1>; type S2 = Rank2<1, 1>; type W = Rank3<1, 1, 1>;
            type O = Rank2<1, 1>;
        }
        m {
            type S1 = Rank2<3, 2>; type S2 = Rank2<3, 4>; type W = Rank3<3, 2, 4>;
            type O = Rank2<3, 3>;
        }
        t {
            type S1 = Rank3<2, 2, 3>; type S2 = Rank3<2, 2, 2>; type W = Rank3<2, 3, 2>;
            type O = Rank3<2, 2, 2>;
        }
    ] {
        x1: T<S1> = uniform(-2.0, 2.0), x2: T<S2> = uniform(-2.0, 2.0),
        wt: T<W> = uniform(-2.0, 2.0), b: T<Rank1<{ W::DIMS[0] }>> = uniform(-2.0, 2.0),
        w: T<O> = uniform(-2.0, 2.0),
    } => {
        grad("d/dx1 bilinear", &|x1| (x1.bilinear(&x2, &wt, &b) * &w).sum(), &x1)?;
        grad("d/dx2 bilinear", &|x2| (x1.bilinear(&x2, &wt, NoBias) * &w).sum(), &x2)?;
        grad("d/dW bilinear", &|wt| (x1.bilinear(&x2, &wt, &b) * &w).sum(), &wt)?;
        grad("d/db bilinear", &|b| (x1.bilinear(&x2, &wt, &b) * &w).sum(), &b)?;
        // x1 and x2 the same tensor: both paths accumulate.
        grad("d/dx bilinear(x, x)", &|x| (x.bilinear(&x, &wt_sq(&wt), NoBias) * &w).sum(), &x1)
    }
}

// ------------------------------------------------------------------------------------------------
// Gradients of the losses.
// ------------------------------------------------------------------------------------------------

property! {
    /// `mse`, both arguments.
    mse for [
        s { type S = Rank0; } v7 { type S = Rank1<7>; } m34 { type S = Rank2<3, 4>; }
        t213 { type S = Rank3<2, 1, 3>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        p: T<S> = uniform(-2.0, 2.0), t: T<S> = uniform(-2.0, 2.0),
    } => {
        grad("d/dpred mse", &|p| mse(&p, &t), &p)?;
        grad("d/dtarget mse", &|t| mse(&p, &t), &t)
    }
}

property! {
    /// `binary_cross_entropy_with_logits`, both arguments, targets in `[0, 1]`.
    bce for [
        s { type S = Rank0; } v7 { type S = Rank1<7>; } m34 { type S = Rank2<3, 4>; }
        t213 { type S = Rank3<2, 1, 3>; } r6 { type S = Rank6<1, 2, 1, 2, 1, 2>; }
    ] {
        x: T<S> = uniform(-6.0, 6.0), t: T<S> = uniform(0.0, 1.0),
    } => {
        grad("d/dlogits bce", &|x| binary_cross_entropy_with_logits(&x, &t), &x)?;
        grad("d/dtargets bce", &|t| binary_cross_entropy_with_logits(&x, &t), &t)
    }
}

property! {
    /// `cross_entropy` from logits `[B, C]` with random class ids.
    cross_entropy for [
        b1c1 { const B: usize = 1; const C: usize = 1; }
        b1c5 { const B: usize = 1; const C: usize = 5; }
        b4c3 { const B: usize = 4; const C: usize = 3; }
        b3c10 { const B: usize = 3; const C: usize = 10; }
    ] {
        x: T<Rank2<B, C>> = uniform(-4.0, 4.0), y: Labels<Const<B>, C> = uniform(0.0, 1.0),
    } => {
        grad("d/dlogits cross_entropy", &|x| cross_entropy(&x, &y), &x)
    }
}

property! {
    /// A two-layer network, `cross_entropy(tanh(x W1^T + b1) W2^T)`: the chain rule across
    /// contractions, an activation and a loss, for the first weight.
    network for [
        small { const B: usize = 3; const I: usize = 4; const H: usize = 5; const C: usize = 3; }
        one { const B: usize = 1; const I: usize = 1; const H: usize = 1; const C: usize = 2; }
    ] {
        x: T<Rank2<B, I>> = uniform(-2.0, 2.0), w1: T<Rank2<H, I>> = uniform(-1.0, 1.0),
        b1: T<Rank1<H>> = uniform(-1.0, 1.0), w2: T<Rank2<C, H>> = uniform(-1.0, 1.0),
        y: Labels<Const<B>, C> = uniform(0.0, 1.0),
    } => {
        grad(
            "d/dW1 network",
            &|w1| cross_entropy(&x.linear(&w1, &b1).tanh().linear(&w2, NoBias), &y),
            &w1,
        )
    }
}

/// A square weight for `bilinear(x, x)`: the weight's first `[IN, IN]` block, repeated per output.
fn wt_sq<const O: usize, const I: usize, const J: usize>(
    w: &Tensor<Rank3<O, I, J>, f64>,
) -> Tensor<Rank3<O, I, I>, f64> {
    Tensor::<Rank3<O, I, I>, f64>::from_fn(|[o, i, j]| w[[o, i, j % J]])
}

// ------------------------------------------------------------------------------------------------
// Identities.
// ------------------------------------------------------------------------------------------------

/// Fails the case unless `a` and `b` agree elementwise to a relative 1e-12 (absolute near 0).
fn close<S: StaticShape>(what: &str, a: &Tensor<S, f64>, b: &Tensor<S, f64>) -> TestCaseResult {
    let bad = a
        .as_slice()
        .iter()
        .zip(b.as_slice())
        .position(|(x, y)| (x - y).abs() > 1e-12 * (1.0 + x.abs().max(y.abs())));
    match bad {
        None => Ok(()),
        Some(i) => Err(TestCaseError::fail(format!(
            "{what} on shape {:?}: element {i} is {} on one side and {} on the other",
            S::DIMS,
            a.as_slice()[i],
            b.as_slice()[i]
        ))),
    }
}

property! {
    /// `(A B)^T = B^T A^T`, with `transpose` and `matmul`, also for batches.
    product_transpose for [
        m { type A = Rank2<3, 4>; type B = Rank2<4, 2>; }
        one { type A = Rank2<1, 1>; type B = Rank2<1, 1>; }
        col { type A = Rank2<5, 1>; type B = Rank2<1, 3>; }
        batch { type A = Rank3<2, 3, 4>; type B = Rank3<2, 4, 2>; }
        shared { type A = Rank3<3, 2, 4>; type B = Rank2<4, 5>; }
        r4 { type A = Rank4<2, 1, 3, 2>; type B = Rank4<2, 1, 2, 2>; }
    ] {
        a: T<A> = uniform(-2.0, 2.0), b: T<B> = uniform(-2.0, 2.0),
    } => {
        close(
            "(A B)^T = B^T A^T",
            &a.matmul(&b).transpose(),
            &b.transpose().matmul(&a.transpose()),
        )
    }
}

property! {
    /// `inner(a, b) = a.matmul(b^T)` for a matrix `b` and `a` of rank 1 to 3.
    inner_is_matmul_by_the_transpose for [
        v { type A = Rank1<4>; const N: usize = 3; const K: usize = 4; }
        m { type A = Rank2<3, 4>; const N: usize = 2; const K: usize = 4; }
        one { type A = Rank2<1, 1>; const N: usize = 1; const K: usize = 1; }
        t { type A = Rank3<2, 3, 5>; const N: usize = 4; const K: usize = 5; }
    ] {
        a: T<A> = uniform(-2.0, 2.0), b: T<Rank2<N, K>> = uniform(-2.0, 2.0),
    } => {
        close("inner(a, b) = a b^T", &a.inner(&b), &a.matmul(&b.transpose()))
    }
}

property! {
    /// `reshape` there and back gives the same tensor, bit for bit, sharing its data; and the
    /// gradient through the round trip is the upstream gradient itself.
    reshape_round_trip for [
        s_v1 { type S = Rank0; type D = Rank1<1>; }
        v6_m23 { type S = Rank1<6>; type D = Rank2<2, 3>; }
        t234_r6 { type S = Rank3<2, 3, 4>; type D = Rank6<2, 1, 3, 1, 2, 2>; }
        r5_v12 { type S = Rank5<1, 2, 3, 1, 2>; type D = Rank1<12>; }
    ] {
        x: T<S> = uniform(-2.0, 2.0), w: T<S> = uniform(-2.0, 2.0),
    } => {
        let back = x.reshape::<D>().reshape::<S>();
        prop_assert!(back.shares_data(&x));
        let bits = |t: &T<S>| t.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&back), bits(&x));
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.reshape::<D>().reshape::<S>() * &w).sum().backward();
        prop_assert_eq!(g.get(&xt), w);
        Ok(())
    }
}

property! {
    /// `sum(broadcast_to(v)) = count * v` for a scalar `v`, and in general the sum of a broadcast
    /// is the sum of the source times the number of copies.
    sum_of_broadcast for [
        same { type S = Rank1<3>; type D = Rank1<3>; }
        m43 { type S = Rank1<3>; type D = Rank2<4, 3>; }
        t223 { type S = Rank2<2, 1>; type D = Rank3<2, 2, 3>; }
        r6 { type S = Rank3<1, 2, 1>; type D = Rank6<2, 1, 3, 1, 2, 2>; }
        empty { type S = Rank1<1>; type D = Rank2<0, 4>; }
    ] {
        v: f64 = uniform(-4.0, 4.0), x: T<S> = uniform(-2.0, 2.0),
    } => {
        let count = D::NUMEL as f64;
        let s = Tensor::from(v).broadcast_to::<D>().sum().item();
        let ok = (s - count * v).abs() <= 1e-12 * count * v.abs();
        prop_assert!(ok, "{} != {} * {}", s, count, v);
        let copies = (D::NUMEL / S::NUMEL) as f64;
        let s = x.broadcast_to::<D>().sum().item();
        let want = copies * x.sum().item();
        // Terms below 2 in magnitude: the rounding error is far below 1e-12 of the largest sum.
        let ok = (s - want).abs() <= 1e-12 * (1.0 + 2.0 * D::NUMEL as f64);
        prop_assert!(ok, "{} != {}", s, want);
        Ok(())
    }
}

property! {
    /// `softmax` along an axis is positive and sums to 1 along it, also for large inputs.
    softmax_sums_to_one for [
        v5_0 { type S = Rank1<5>; const AX: usize = 0; }
        m34_1 { type S = Rank2<3, 4>; const AX: usize = 1; }
        m34_0 { type S = Rank2<3, 4>; const AX: usize = 0; }
        t234_1 { type S = Rank3<2, 3, 4>; const AX: usize = 1; }
        r4_3 { type S = Rank4<2, 1, 3, 7>; const AX: usize = 3; }
    ] {
        x: T<S> = uniform(-50.0, 50.0), scale: f64 = one_of(&[1.0, 20.0]),
    } => {
        let y = (&x * scale).softmax::<AX>();
        prop_assert!(y.as_slice().iter().all(|&v| (0.0..=1.0).contains(&v)));
        let ones = Tensor::<<S as ReduceAxis<AX>>::Reduced, f64>::ones();
        close("sum of softmax = 1", &y.sum_axis::<AX>(), &ones)
    }
}

property! {
    /// `logsumexp(x + c) = logsumexp(x) + c`, over all elements and along an axis, for shifts up to
    /// 1000 (where a naive `ln(sum(exp))` overflows).
    logsumexp_shift for [
        v5_0 { type S = Rank1<5>; const AX: usize = 0; }
        m34_1 { type S = Rank2<3, 4>; const AX: usize = 1; }
        t234_0 { type S = Rank3<2, 3, 4>; const AX: usize = 0; }
        r4_2 { type S = Rank4<2, 1, 3, 2>; const AX: usize = 2; }
    ] {
        x: T<S> = uniform(-5.0, 5.0), c: f64 = uniform(-1000.0, 1000.0),
    } => {
        let all = ((&x + c).logsumexp().item(), x.logsumexp().item() + c);
        prop_assert!((all.0 - all.1).abs() <= 1e-12 * (1.0 + c.abs()), "{} != {}", all.0, all.1);
        let shifted = (&x + c).logsumexp_axis::<AX>();
        let want = x.logsumexp_axis::<AX>() + c;
        let tolerance = 1e-12 * (1.0 + c.abs());
        let bad = shifted
            .as_slice()
            .iter()
            .zip(want.as_slice())
            .find(|(a, b)| (*a - *b).abs() > tolerance);
        prop_assert!(bad.is_none(), "logsumexp_axis(x + c) != logsumexp_axis(x) + c: {:?}", bad);
        Ok(())
    }
}

#[test]
fn the_identities_hold_in_f32_too() {
    // A fixed spot check of the same identities in f32, at f32's precision.
    let a = Tensor::<Rank2<3, 4>>::from_fn(|[i, j]| (i as f32 - j as f32) * 0.25);
    let b = Tensor::<Rank2<4, 2>>::from_fn(|[i, j]| (i * 2 + j) as f32 * 0.5 - 1.0);
    assert_relative_eq!(
        a.matmul(&b).transpose(),
        b.transpose().matmul(&a.transpose()),
        epsilon = 1e-6
    );
    let c = Tensor::<Rank2<2, 4>>::from_fn(|[i, j]| (i + j) as f32);
    assert_relative_eq!(a.inner(&c), a.matmul(&c.transpose()), epsilon = 1e-5);
    assert_relative_eq!(
        (&a + 100.0).logsumexp_axis::<1>(),
        a.logsumexp_axis::<1>() + 100.0,
        epsilon = 1e-4
    );
}
