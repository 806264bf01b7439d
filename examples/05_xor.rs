//! XOR: the classic function that no linear model can learn, learned by a tiny MLP.
//!
//! A `Linear<2, 1>` cannot separate `{(0, 1), (1, 0)}` from `{(0, 0), (1, 1)}`: the best it can do
//! under binary cross-entropy is to output 1/2 everywhere (loss ln 2). One hidden layer of 8 tanh
//! units is enough.
//!
//! Run: `cargo run --example 05_xor`

use shaped::nn::{Linear, binary_cross_entropy_with_logits as bce};
use shaped::optim::{Adam, Optimizer};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Module, NoTape, Rank2, Tensor, Tracking};

#[derive(Module)]
struct Xor<T: Tracking<f32> = NoTape> {
    l1: Linear<2, 8, f32, T>,
    l2: Linear<8, 1, f32, T>,
}

impl<T: Tracking<f32>> Xor<T> {
    fn forward(&self, x: Tensor<Rank2<4, 2>>) -> Tensor<Rank2<4, 1>, f32, T> {
        self.l2.forward(self.l1.forward(x).tanh())
    }
}

fn main() {
    let x: Tensor<Rank2<4, 2>> = Tensor::from([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]);
    let y: Tensor<Rank2<4, 1>> = Tensor::from([[0.0], [1.0], [1.0], [0.0]]);
    let mut rng = StdRng::seed_from_u64(0);

    // A linear model, trained the same way, gets stuck at loss ln 2 = 0.693.
    let mut linear: Linear<2, 1> = Linear::new(&mut rng);
    let mut opt = Adam::new(&linear, 0.1);
    for _ in 0..300 {
        let (_, grads) = linear.value_and_grad(|l| bce(&l.forward(x.clone()), &y));
        opt.step(&mut linear, &grads);
    }
    let linear_loss = bce(&linear.forward(x.clone()), &y).item();
    println!(
        "linear model: loss {linear_loss:.4} (ln 2 = {:.4})",
        2.0_f32.ln()
    );
    assert!(linear_loss > 0.69);

    // The MLP.
    let mut model = Xor {
        l1: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
    };
    let mut opt = Adam::new(&model, 0.1);
    for step in 0..=300 {
        let (loss, grads): (f32, XorGrads) =
            model.value_and_grad(|m| bce(&m.forward(x.clone()), &y));
        if step % 50 == 0 {
            println!("step {step:>3}: loss {loss:.4}");
        }
        opt.step(&mut model, &grads);
    }

    let p = model.forward(x.clone()).sigmoid();
    println!(" a  b  a xor b  P(1)");
    for ((xi, yi), pi) in x.to_array().iter().zip(y.to_array()).zip(p.to_array()) {
        println!(" {}  {}  {}        {:.3}", xi[0], xi[1], yi[0], pi[0]);
        assert_eq!(pi[0] > 0.5, yi[0] == 1.0, "wrong on {xi:?}");
    }
    let loss = bce(&model.forward(x), &y).item();
    println!("MLP: loss {loss:.4}, all four right");
    assert!(loss < 0.01);
}
