//! Reverse-mode autodiff on a formula, checked against the derivative by hand and against finite
//! differences.
//!
//! f(x, y) = sum( exp(x) * y + ln(y) / x )
//! df/dx = exp(x) * y - ln(y) / x^2
//! df/dy = exp(x) + 1 / (y x)
//!
//! Run: `cargo run --example 02_autograd`

use shaped::{Rank1, Tape, Tensor, gradcheck};

fn main() {
    let x: Tensor<Rank1<3>, f64> = Tensor::from([0.5, 1.0, 2.0]);
    let y: Tensor<Rank1<3>, f64> = Tensor::from([1.5, 2.0, 3.0]);

    // Both inputs are watched: their gradients are kept.
    let tape = Tape::new();
    let (xt, yt) = (tape.watch(&x), tape.watch(&y));
    let f = (xt.exp() * &yt + yt.ln() / &xt).sum();
    println!("f = {}", f.item());

    let grads = f.backward();
    let (dx, dy) = (grads.get(&xt), grads.get(&yt));
    // The gradients have the inputs' types: Tensor<Rank1<3>, f64>.
    let dx_by_hand = x.exp() * &y - y.ln() / (&x * &x);
    let dy_by_hand = x.exp() + 1.0 / (&y * &x);
    println!("df/dx = {dx}  (by hand {dx_by_hand})");
    println!("df/dy = {dy}  (by hand {dy_by_hand})");
    approx::assert_relative_eq!(dx, dx_by_hand, max_relative = 1e-12);
    approx::assert_relative_eq!(dy, dy_by_hand, max_relative = 1e-12);

    // The same check for any function: central finite differences in f64. The closure's argument
    // is watched; the captured tensor is a constant.
    gradcheck(|x| (x.exp() * &y + y.ln() / &x).sum(), &x)
        .expect("df/dx agrees with finite differences");
    gradcheck(|y| (x.exp() * &y + y.ln() / &x).sum(), &y)
        .expect("df/dy agrees with finite differences");
    println!("gradcheck: both gradients agree with central differences");
}
