//! Linear regression: recover known weights and bias from noisy synthetic data.
//!
//! The data is `y = x w^T + b + noise` with `w = [2, -3.4, 1.5]`, `b = 4.2` and Gaussian noise of
//! standard deviation 0.01 on 200 random points. A `Linear<3, 1>` layer fitted by gradient descent on
//! the mean squared error finds `w` and `b` to within a few thousandths.
//!
//! Run: `cargo run --example 03_linear_regression`

use shaped::nn::{Linear, mse};
use shaped::optim::{Optimizer, Sgd};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Module, Rank1, Rank2, Tensor};

const N: usize = 200;

fn main() {
    let mut rng = StdRng::seed_from_u64(0);

    // The true model, and N noisy observations of it.
    let true_w: Tensor<Rank2<1, 3>, f64> = Tensor::from([[2.0, -3.4, 1.5]]);
    let true_b: Tensor<Rank1<1>, f64> = Tensor::from([4.2]);
    let x: Tensor<Rank2<N, 3>, f64> = Tensor::randn(&mut rng);
    let noise: Tensor<Rank2<N, 1>, f64> = Tensor::normal(&mut rng, 0.0, 0.01);
    let y = x.linear(&true_w, &true_b) + &noise;

    // A layer from a random start, fitted by full-batch gradient descent. `value_and_grad` puts the
    // layer's parameters on a tape (the data is a constant) and returns the loss and their gradients.
    let mut model: Linear<3, 1, f64> = Linear::new(&mut rng);
    let mut opt = Sgd::new(&model, 0.1);
    for step in 0..=200 {
        let (loss, grads) = model.value_and_grad(|m| mse(&m.forward(x.clone()), &y));
        if step % 40 == 0 {
            println!("step {step:>3}: mse {loss:.6}");
        }
        opt.step(&mut model, &grads);
    }

    let bias = model.bias.as_ref().expect("Linear::new has a bias");
    println!("        learned    true");
    for (i, (w, t)) in model
        .weight
        .as_slice()
        .iter()
        .zip(true_w.as_slice())
        .enumerate()
    {
        println!("w[{i}]  {w:>9.4}  {t:>6.1}");
        assert!((w - t).abs() < 5e-3, "w[{i}] = {w}, expected about {t}");
    }
    let (b, t) = (bias.as_slice()[0], true_b.as_slice()[0]);
    println!("b     {b:>9.4}  {t:>6.1}");
    assert!((b - t).abs() < 5e-3, "b = {b}, expected about {t}");

    // What is left is the noise: the residual mean squared error is about 0.01^2.
    let residual = mse(&model.forward(x), &y).item();
    println!("residual mse {residual:.2e} (noise variance 1e-4)");
    assert!(residual < 2e-4);
}
