//! A differentiable op written outside the crate: the erf form of GELU (see `op.rs`), checked
//! against its known values and against finite differences, then used to train an MLP on iris.
//!
//! Run: `cargo run --release --example gelu`

mod op;

use shaped::data::Dataset;
use shaped::nn::{Linear, accuracy, cross_entropy};
use shaped::optim::{Adam, Optimizer};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{GradCheck, Module, NoTape, Rank2, Tensor, Tracking, gradcheck};

use op::gelu;

#[derive(Module)]
struct GeluMlp<T: Tracking<f32> = NoTape> {
    l1: Linear<4, 16, f32, T>,
    l2: Linear<16, 3, f32, T>,
}

impl<T: Tracking<f32>> GeluMlp<T> {
    fn forward<const B: usize>(&self, x: Tensor<Rank2<B, 4>>) -> Tensor<Rank2<B, 3>, f32, T> {
        self.l2.forward(gelu(&self.l1.forward(x)))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // gelu(x) = x Φ(x): Φ(0) = 1/2, Φ(1) = 0.841344746068543, Φ(-1) = 1 - Φ(1).
    let x = Tensor::from([-1.0_f64, 0.0, 1.0, 2.0]);
    let y = gelu(&x);
    println!("gelu({:?}) = {:?}", x.to_vec(), y.to_vec());
    let phi1: f64 = 0.841_344_746_068_543;
    assert!((y[[0]] - -(1.0 - phi1)).abs() < 1e-15 && (y[[2]] - phi1).abs() < 1e-15);

    // The derivative against central differences, in f64 and in f32.
    let x: Tensor<Rank2<3, 5>, f64> = Tensor::uniform(&mut StdRng::seed_from_u64(1), -4.0, 4.0);
    gradcheck(|x| gelu(&x).sum(), &x)?;
    let x32: Tensor<Rank2<3, 5>> = Tensor::uniform(&mut StdRng::seed_from_u64(2), -4.0, 4.0);
    GradCheck::F32.run(|x| (gelu(&x) * &x).sum(), &x32)?;
    println!("gradcheck: the derivative Φ(x) + x φ(x) matches central differences (f64 and f32)");

    // Train a 4 -> 16 -> GELU -> 3 MLP on iris.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/iris.csv"
    ))?;
    let mut rng = StdRng::seed_from_u64(0);
    let (train, test) = Dataset::<4, 3>::from_csv(&text, true)?
        .map_features(|v| v / 8.0)
        .shuffled(&mut rng)
        .split(0.2);
    let mut model = GeluMlp {
        l1: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
    };
    let mut opt = Adam::new(&model, 0.02);
    for epoch in 1..=60 {
        let mut sum = 0.0;
        for (x, labels) in train.clone().shuffled(&mut rng).batches::<20, f32>() {
            let (loss, grads) = model.value_and_grad(|m| cross_entropy(&m.forward(x), &labels));
            sum += loss;
            opt.step(&mut model, &grads);
        }
        if epoch % 10 == 0 {
            println!("epoch {epoch:2}: loss {:.4}", sum / 6.0);
        }
    }
    let (x, labels) = test.batches::<30, f32>().next().ok_or("30 test rows")?;
    let acc = accuracy(&model.forward(x), &labels);
    println!(
        "gelu mlp: test accuracy {:.1} % on {} held-out flowers",
        100.0 * acc,
        test.len()
    );
    Ok(())
}
