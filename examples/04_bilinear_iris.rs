//! A bilinear model scores pairs of iris flowers as the same species or not.
//!
//! Each flower (4 measurements, standardized) goes through a shared `Linear<4, 8>` + tanh; a
//! `nn::Bilinear<8, 8, 1>` scores the pair, `e1 W e2^T + b`, as a logit for "same species", trained with
//! `binary_cross_entropy_with_logits` on balanced pairs of 100 training flowers. The test is every
//! pair of the 50 held-out flowers (1225 pairs, none of them seen in training).
//!
//! Run: `cargo run --example 04_bilinear_iris`

use shaped::data::Dataset;
use shaped::nn::{Bilinear, Linear, binary_cross_entropy_with_logits as bce};
use shaped::optim::{Adam, Optimizer};
use shaped::rand::{RngExt, SeedableRng, rngs::StdRng};
use shaped::{Module, NoTape, Rank2, Tensor, Tracking};

const BATCH: usize = 64;
const HELD_OUT: usize = 50;
const TEST_PAIRS: usize = HELD_OUT * (HELD_OUT - 1) / 2;

#[derive(Module)]
struct PairScorer<T: Tracking<f32> = NoTape> {
    embed: Linear<4, 8, f32, T>,
    score: Bilinear<8, 8, 1, f32, T>,
}

impl<T: Tracking<f32>> PairScorer<T> {
    /// The same-species logit of each pair `(a[i], b[i])`.
    fn forward<const B: usize>(
        &self,
        a: Tensor<Rank2<B, 4>>,
        b: Tensor<Rank2<B, 4>>,
    ) -> Tensor<Rank2<B, 1>, f32, T> {
        let ea = self.embed.forward(a).tanh();
        let eb = self.embed.forward(b).tanh();
        self.score.forward(ea, eb)
    }
}

/// The flowers of `pairs` as two `[B, 4]` tensors, and the targets (1 for the same species).
fn batch<const B: usize>(
    flowers: &[[f64; 4]],
    species: &[usize],
    pairs: &[(usize, usize)],
) -> (
    Tensor<Rank2<B, 4>>,
    Tensor<Rank2<B, 4>>,
    Tensor<Rank2<B, 1>>,
) {
    let a = Tensor::<Rank2<B, 4>>::from_fn(|[k, j]| flowers[pairs[k].0][j] as f32);
    let b = Tensor::<Rank2<B, 4>>::from_fn(|[k, j]| flowers[pairs[k].1][j] as f32);
    let same = Tensor::<Rank2<B, 1>>::from_fn(|[k, _]| {
        f32::from(u8::from(species[pairs[k].0] == species[pairs[k].1]))
    });
    (a, b, same)
}

fn main() -> Result<(), shaped::Error> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/iris.csv"
    ))
    .expect("examples/data/iris.csv is shipped with the crate");
    let mut rng = StdRng::seed_from_u64(0);
    let (train, test) = Dataset::<4, 3>::from_csv(&text, true)?
        .shuffled(&mut rng)
        .split(HELD_OUT as f64 / 150.0);
    assert_eq!(test.len(), HELD_OUT);

    // Standardize each measurement with the training flowers' mean and standard deviation.
    let n = train.len() as f64;
    let mean: [f64; 4] =
        std::array::from_fn(|j| train.features().iter().map(|f| f[j]).sum::<f64>() / n);
    let std: [f64; 4] = std::array::from_fn(|j| {
        (train
            .features()
            .iter()
            .map(|f| (f[j] - mean[j]).powi(2))
            .sum::<f64>()
            / n)
            .sqrt()
    });
    let standardize = |rows: &[[f64; 4]]| -> Vec<[f64; 4]> {
        rows.iter()
            .map(|f| std::array::from_fn(|j| (f[j] - mean[j]) / std[j]))
            .collect()
    };
    let (train_x, test_x) = (standardize(train.features()), standardize(test.features()));
    let (train_y, test_y) = (train.labels(), test.labels());

    let mut model = PairScorer {
        embed: Linear::new(&mut rng),
        score: Bilinear::new(&mut rng),
    };
    let mut opt = Adam::new(&model, 0.01);
    println!(
        "{} parameters; training on pairs of {} flowers",
        model.param_count(),
        train.len()
    );
    for step in 0..=300 {
        // Balanced pairs: even slots the same species, odd slots different ones.
        let pairs: Vec<(usize, usize)> = (0..BATCH)
            .map(|k| {
                let i = rng.random_range(0..train_y.len());
                loop {
                    let j = rng.random_range(0..train_y.len());
                    if (train_y[i] == train_y[j]) == (k % 2 == 0) && i != j {
                        return (i, j);
                    }
                }
            })
            .collect();
        let (a, b, same) = batch::<BATCH>(&train_x, train_y, &pairs);
        let (loss, grads): (f32, PairScorerGrads) =
            model.value_and_grad(|m| bce(&m.forward(a, b), &same));
        if step % 50 == 0 {
            println!("step {step:>3}: loss {loss:.4}");
        }
        opt.step(&mut model, &grads);
    }

    // Every pair of held-out flowers: a logit above 0 says "same species".
    let pairs: Vec<(usize, usize)> = (0..HELD_OUT)
        .flat_map(|i| (i + 1..HELD_OUT).map(move |j| (i, j)))
        .collect();
    let (a, b, same) = batch::<TEST_PAIRS>(&test_x, test_y, &pairs);
    let logits = model.forward(a, b);
    let (mut right, mut same_right, mut same_total) = (0, 0, 0);
    for (&logit, &target) in logits.as_slice().iter().zip(same.as_slice()) {
        let is_same = target == 1.0;
        right += usize::from((logit > 0.0) == is_same);
        same_total += usize::from(is_same);
        same_right += usize::from(is_same && logit > 0.0);
    }
    let (diff_total, diff_right) = (TEST_PAIRS - same_total, right - same_right);
    let accuracy = right as f64 / TEST_PAIRS as f64;
    println!(
        "held-out pairs: {right} of {TEST_PAIRS} right ({:.1} %); same species {same_right}/{same_total}, \
         different {diff_right}/{diff_total}; always answering \"different\" would score {:.1} %",
        100.0 * accuracy,
        100.0 * diff_total as f64 / TEST_PAIRS as f64
    );
    assert!(accuracy > 0.9);
    assert!(
        same_right as f64 > 0.85 * same_total as f64
            && diff_right as f64 > 0.85 * diff_total as f64
    );
    Ok(())
}
