//! A run-time shape mismatch panics at the caller's line, not inside the crate, and its message
//! names the op the caller called and both sizes.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use shaped::nn::{
    Bilinear, Linear, Mean, MultiheadAttention, mse, mse_loss, scaled_dot_product_attention,
};
use shaped::{Axis, Const, Indices, NoBias, Rank2, Rank3, Tensor};

thread_local! {
    /// Whether this thread records the file of its next panic (other tests' panics go to the
    /// previous hook).
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static FILE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The file that the panic of `f` reports, and its message.
fn panic_site(f: impl FnOnce()) -> (String, String) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAPTURING.get() {
                FILE.set(info.location().map(|l| l.file().to_string()));
            } else {
                previous(info);
            }
        }));
    });
    CAPTURING.set(true);
    let result = catch_unwind(AssertUnwindSafe(f));
    CAPTURING.set(false);
    let payload = result.expect_err("the op did not panic");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    (FILE.take().expect("the hook saw the panic"), message)
}

/// Checks that `f` panics with `message`, reported at a line of this file.
#[track_caller]
fn panics_here(message: &str, f: impl FnOnce()) {
    let (file, got) = panic_site(f);
    assert_eq!(got, message);
    assert_eq!(file, file!(), "the panic `{got}` is reported in {file}");
}

fn rows<const C: usize>(n: usize) -> Tensor<(usize, Const<C>), f64> {
    Tensor::zeros_with((n, Const))
}

#[test]
fn run_time_mismatches_are_reported_at_the_call_and_name_the_op() {
    // matmul: the inner dimensions, a static operand against a run-time one, the batch axes
    let a: Tensor<(Const<2>, usize), f64> = Tensor::zeros_with((Const, 3));
    panics_here("matmul: the inner dimensions differ: 3 and 4", || {
        let _ = a.matmul(&rows::<5>(4));
    });
    let s: Tensor<Rank2<2, 3>, f64> = Tensor::zeros();
    panics_here("matmul: the inner dimensions differ: 3 and 4", || {
        let _ = s.matmul(&rows::<5>(4));
    });
    let b2: Tensor<(usize, Const<2>, Const<3>), f64> = Tensor::zeros_with((2, Const, Const));
    let b3: Tensor<(usize, Const<3>, Const<4>), f64> = Tensor::zeros_with((3, Const, Const));
    panics_here(
        "matmul: the batch axes [2] and [3] cannot be broadcast together",
        || {
            let _ = b2.matmul(&b3);
        },
    );
    // A batch against an unbatched operand.
    let w: Tensor<(usize, Const<4>), f64> = Tensor::zeros_with((2, Const));
    panics_here("matmul: the inner dimensions differ: 3 and 2", || {
        let _ = b2.matmul(&w);
    });

    // linear, as an op and as a layer
    let x: Tensor<(Const<2>, usize), f64> = Tensor::zeros_with((Const, 5));
    let weight: Tensor<Rank2<3, 4>, f64> = Tensor::zeros();
    panics_here(
        "linear: the input width and the weight's differ: 5 and 4",
        || {
            let _ = x.linear(&weight, NoBias);
        },
    );
    let layer: Linear<4, 3, f64> = Linear::zeros();
    panics_here(
        "linear: the input width and the weight's differ: 5 and 4",
        || {
            let _ = layer.forward(x.clone());
        },
    );

    // bilinear, as an op and as a layer
    let wb: Tensor<Rank3<3, 2, 2>, f64> = Tensor::zeros();
    let message = "bilinear: the leading dimensions of the two inputs differ: [3, 2] and [4, 2]";
    panics_here(message, || {
        let _ = rows::<2>(3).bilinear(&rows::<2>(4), &wb, NoBias);
    });
    let layer: Bilinear<2, 2, 3, f64> = Bilinear::zeros();
    panics_here(message, || {
        let _ = layer.forward(rows::<2>(3), rows::<2>(4));
    });
    let wide: Tensor<(usize, usize), f64> = Tensor::zeros_with((3, 5));
    panics_here(
        "bilinear: the first input's width and the weight's differ: 5 and 2",
        || {
            let _ = layer.forward(wide.clone(), rows::<2>(3));
        },
    );

    // inner
    let u: Tensor<(usize,), f64> = Tensor::zeros_with((3,));
    let v: Tensor<(usize,), f64> = Tensor::zeros_with((4,));
    panics_here("inner: the last dimensions differ: 3 and 4", || {
        let _ = u.inner(&v);
    });

    // concat
    let c: Tensor<(usize, usize), f64> = Tensor::zeros_with((2, 3));
    let d: Tensor<(usize, usize), f64> = Tensor::zeros_with((2, 4));
    panics_here(
        "concat along axis 0: the shapes differ on another axis: [2, 3] and [2, 4]",
        || {
            let _ = c.concat(Axis::<0>, &d);
        },
    );
}

#[test]
fn attention_mismatches_name_the_attention_op() {
    type Seq = Tensor<(usize, usize, Const<4>), f64>;
    let seq = |b: usize, l: usize| -> Seq { Tensor::zeros_with((b, l, Const)) };
    let (q, v) = (seq(2, 3), seq(2, 5));
    panics_here(
        "scaled_dot_product_attention: the lengths of the keys and the values differ: 3 and 5",
        || {
            let _ = scaled_dot_product_attention(&q, &q, &v, false);
        },
    );
    let k: Tensor<(usize, usize, usize), f64> = Tensor::zeros_with((2, 3, 3));
    let q4: Tensor<(usize, usize, usize), f64> = Tensor::zeros_with((2, 3, 4));
    panics_here(
        "scaled_dot_product_attention: the widths of the queries and the keys differ: 4 and 3",
        || {
            let _ = scaled_dot_product_attention(&q4, &k, &k, false);
        },
    );
    let other = seq(3, 3);
    panics_here(
        "scaled_dot_product_attention: the batch axes [2] and [3] cannot be broadcast together",
        || {
            let _ = scaled_dot_product_attention(&q, &other, &other, true);
        },
    );
    let mha: MultiheadAttention<4, 2, 2, f64> = MultiheadAttention::zeros();
    panics_here(
        "MultiheadAttention: the lengths of the keys and the values differ: 3 and 5",
        || {
            let _ = mha.forward(&q, &q, &v, false);
        },
    );
}

#[test]
fn lookups_and_losses_name_the_op_called() {
    let table = rows::<2>(5);
    let ids = Indices::<usize, Const<4>>::from_slice(&[1]).unwrap();
    panics_here(
        "embedding: the table's rows and the ids' bound differ: 5 and 4",
        || {
            let _ = table.embedding(&ids);
        },
    );
    panics_here(
        "embedding_with_padding: the table's rows and the ids' bound differ: 5 and 4",
        || {
            let _ = table.embedding_with_padding(&ids, 0);
        },
    );
    panics_here(
        "index_select: the axis size and the indices' bound differ: 5 and 4",
        || {
            let _ = table.index_select(Axis::<0>, &ids);
        },
    );
    panics_here("mse: the shapes differ: [3, 2] and [4, 2]", || {
        let _ = mse(&rows::<2>(3), &rows::<2>(4));
    });
    panics_here("mse_loss: the shapes differ: [3, 2] and [4, 2]", || {
        let _ = mse_loss(&rows::<2>(3), &rows::<2>(4), Mean);
    });
}
