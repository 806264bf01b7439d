//! What a shape mistake looks like: each section below builds and runs the right code, with the
//! mistaken line commented out above it and the first lines of the error the compiler gives for it.
//!
//! The errors are copied from the compile-fail tests in `ui-tests/` (named before each one), which pin
//! the compiler's exact output; when run, this example checks that every quoted mistake and error
//! still appears in those files.
//!
//! Run: `cargo run --example 06_shape_errors`

use shaped::nn::Linear;
use shaped::optim::{Optimizer, Sgd};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Module, NoBias, Rank1, Rank2, Rank3, Tensor};

#[derive(Module)]
struct Small {
    l1: Linear<4, 4>,
}

#[derive(Module)]
struct Other {
    l1: Linear<4, 4>,
    l2: Linear<4, 2>,
}

fn main() {
    // Elementwise ops need shapes that broadcast (numpy's rule): equal, or one equal to the last axes
    // of the other, as in `[2, 3] + [3]`.
    let a: Tensor<Rank2<2, 3>> = Tensor::ones();
    let b: Tensor<Rank2<3, 2>> = Tensor::ones();
    // ui-tests/elementwise_shape
    //     let _ = a + b;
    // error[E0277]: shape mismatch: `Rank2<2, 3>` and `Rank2<3, 2>` cannot be broadcast together
    let sum = &a + &b.transpose();
    assert_eq!(sum.to_array(), [[2.0; 3]; 2]);
    let row: Tensor<Rank1<3>> = Tensor::from([1.0, 2.0, 3.0]);
    assert_eq!((&a + &row).to_array(), [[2.0, 3.0, 4.0]; 2]);

    // matmul: the left operand's last dimension is the right operand's second-to-last.
    let a: Tensor<Rank2<2, 3>> = Tensor::ones();
    // let b: Tensor<Rank2<4, 5>> = Tensor::ones();
    // ui-tests/matmul_inner_dim
    //     let _ = a.matmul(&b);
    // error[E0277]: shape mismatch: cannot matmul `Rank2<2, 3>` by `Rank2<4, 5>`
    let b: Tensor<Rank2<3, 5>> = Tensor::ones();
    let product: Tensor<Rank2<2, 5>> = a.matmul(&b);
    assert_eq!(product.to_array(), [[3.0; 5]; 2]);

    // inner contracts the last axis of both operands (numpy's np.inner), so it is not matmul.
    let a: Tensor<Rank2<3, 4>> = Tensor::ones();
    let b: Tensor<Rank2<4, 5>> = Tensor::ones();
    // ui-tests/inner_is_not_matmul
    //     let _ = a.inner(&b);
    // error[E0277]: shape mismatch: cannot take the inner product of `Rank2<3, 4>` and `Rank2<4, 5>`: their last dimensions differ
    let as_inner: Tensor<Rank2<3, 5>> = a.inner(&b.transpose());
    assert_eq!(as_inner.to_array(), a.matmul(&b).to_array());

    // A linear weight is `[OUT, IN]`, as in PyTorch; one stored `[IN, OUT]` must be transposed.
    let x: Tensor<Rank2<4, 3>> = Tensor::ones();
    let w: Tensor<Rank2<3, 2>> = Tensor::ones();
    // ui-tests/linear_weight_transposed
    //     let _ = x.linear(&w, NoBias);
    // error[E0277]: shape mismatch: linear weight `Rank2<3, 2>` does not fit input `Rank2<4, 3>`: the weight must be `[OUT, IN]` with IN = the input's last dimension
    let y: Tensor<Rank2<4, 2>> = x.linear(&w.transpose(), NoBias);
    assert_eq!(y.to_array(), [[3.0; 2]; 4]);

    // Layers chain only when the widths agree.
    let mut rng = StdRng::seed_from_u64(0);
    let l1: Linear<3, 5> = Linear::new(&mut rng);
    let x: Tensor<Rank2<8, 3>> = Tensor::zeros();
    // let l2: Linear<4, 2> = Linear::new(&mut rng);
    // ui-tests/layer_input_width
    //     let _ = l2.forward(l1.forward(x));
    // error[E0277]: shape mismatch: linear weight `Rank2<2, 4>` does not fit input `Rank2<8, 5>`: the weight must be `[OUT, IN]` with IN = the input's last dimension
    let l2: Linear<5, 2> = Linear::new(&mut rng);
    let out: Tensor<Rank2<8, 2>> = l2.forward(l1.forward(x));
    assert_eq!(out.shape(), [8, 2]);

    // A reduction axis must exist.
    let a: Tensor<Rank3<2, 3, 4>> = Tensor::ones();
    // ui-tests/axis_out_of_range
    //     let _ = a.sum_axis::<3>();
    // error[E0277]: axis 3 is out of range for a tensor of shape `Rank3<2, 3, 4>`
    let last: Tensor<Rank2<2, 3>> = a.sum_axis::<2>();
    assert_eq!(last.to_array(), [[4.0; 3]; 2]);

    // transpose swaps the last two axes, so a vector must become a row or a column first.
    let v: Tensor<Rank1<3>> = Tensor::from([1.0, 2.0, 3.0]);
    // ui-tests/transpose_rank
    //     let _ = v.transpose();
    // error[E0277]: `Rank1<3>` has fewer than two axes, so it has no last two axes to transpose
    let column: Tensor<Rank2<3, 1>> = v.reshape::<Rank2<1, 3>>().transpose();
    assert_eq!(column.to_array(), [[1.0], [2.0], [3.0]]);

    // reshape keeps the element count. Stable Rust cannot compare the counts in a trait bound, so this
    // is a const assertion: reported by `cargo build` (not `cargo check`), at the assertion in the crate.
    let a: Tensor<Rank2<2, 3>> = Tensor::ones();
    // ui-tests/reshape_numel
    //     let _ = a.reshape::<Rank3<2, 2, 2>>();
    // error[E0080]: evaluation panicked: reshape must keep the number of elements: 6 elements cannot be reshaped into 8
    let r: Tensor<Rank3<3, 2, 1>> = a.reshape();
    assert_eq!(r.numel(), 6);

    // An optimizer takes the gradients of its own model's type: another model's do not compile.
    let mut small = Small {
        l1: Linear::new(&mut rng),
    };
    let other = Other {
        l1: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
    };
    let mut opt = Sgd::new(&small, 0.1);
    // ui-tests/optimizer_other_model_grads
    //     let grads: OtherGrads = other.zeros_like();
    //     opt.step(&mut small, &grads);
    // error[E0308]: mismatched types
    //     opt.step(&mut small, &grads);
    //                          ^^^^^^ expected `&SmallGrads`, found `&OtherGrads`
    let grads: SmallGrads = small.zeros_like();
    let before = small.l1.weight.to_vec();
    opt.step(&mut small, &grads);
    assert_eq!(small.l1.weight.to_vec(), before);
    assert_eq!(other.param_count(), 4 * 4 + 4 + 4 * 2 + 2);

    check_quotes();
    println!("every mistake above is a compile error; the corrected code ran and its asserts held");
}

/// Checks each quoted block against the ui-test it names: after a `// ui-tests/NAME` line, the
/// indented comment lines are the mistake (found in `NAME.rs`), then the first error line is the
/// first line of `NAME.stderr` and every further quoted line appears in it.
fn check_quotes() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/ui-tests/");
    let source = include_str!("06_shape_errors.rs");
    let mut lines = source.lines().map(str::trim).peekable();
    let mut checked = 0;
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix("// ui-tests/") else {
            continue;
        };
        let read = |ext: &str| {
            std::fs::read_to_string(format!("{dir}{name}.{ext}"))
                .unwrap_or_else(|e| panic!("ui-tests/{name}.{ext}: {e}"))
        };
        let (rs, stderr) = (read("rs"), read("stderr"));
        let mut error_lines = 0;
        while let Some(quote) = lines.peek().and_then(|l| l.strip_prefix("//")) {
            let quote = quote.strip_prefix(' ').unwrap_or(quote);
            if quote.starts_with("error") {
                assert_eq!(
                    stderr.lines().next(),
                    Some(quote),
                    "first line of ui-tests/{name}.stderr"
                );
                error_lines += 1;
            } else if error_lines == 0 {
                assert!(
                    rs.contains(quote.trim()),
                    "ui-tests/{name}.rs has no line `{}`",
                    quote.trim()
                );
            } else {
                assert!(
                    stderr.contains(quote.trim()),
                    "ui-tests/{name}.stderr has no line `{}`",
                    quote.trim()
                );
            }
            lines.next();
        }
        assert_eq!(error_lines, 1, "one error line quoted for ui-tests/{name}");
        checked += 1;
    }
    assert_eq!(checked, 9);
}
