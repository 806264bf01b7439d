//! Attention over the rows of the handwritten digits: each 8x8 image is read as a sequence of 8
//! tokens (its rows) of 8 pixels, each token tagged with its position (a one-hot of 8), and
//! classified by a small transformer block: token embedding 16 -> 16 + ReLU, multi-head
//! self-attention with 2 heads of 8 features (a residual around it), layer normalization, the mean
//! over the tokens, and a linear head to the 10 digits. Trained with Adam and cross-entropy.
//!
//! The head split is in the type: `MultiheadAttention<16, 2, 8>` is 16 features in 2 heads of 8,
//! and `MultiheadAttention<16, 3, 8>` does not build (`MultiheadAttention: embed 16 is not heads 3
//! x head_dim 8 (= 24)`).
//!
//! The data (`examples/data/digits.csv.gz`) is shuffled with a fixed seed and split 80/20, as in the
//! `digits` example. Each epoch prints a line; at the end the training curves are written as an SVG.
//!
//! Run: `cargo run --release --example attention` (the SVG goes to `target/attention/`), or
//! `cargo run --release --example attention -- OUT_DIR`.

#[path = "digits/model.rs"]
#[allow(dead_code)]
mod model;
#[path = "digits/plot.rs"]
mod plot;

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use shaped::data::Dataset;
use shaped::nn::{LayerNorm, Linear, MultiheadAttention, accuracy, cross_entropy};
use shaped::optim::{Adam, Optimizer};
use shaped::rand::{Rng, SeedableRng, rngs::StdRng};
use shaped::{Const, Dim, Module, NoTape, Tensor, Tracking};

const SEED: u64 = 0;
const BATCH: usize = 16;
const EPOCHS: usize = 30;
const LEARNING_RATE: f32 = 5e-3;

/// Tokens of 8 pixels and a one-hot of their position: 16 features.
type Tokens<B> = (B, Const<8>, Const<16>);

/// A transformer block over the 8 rows of a digit.
#[derive(Module)]
struct RowAttention<T: Tracking<f32> = NoTape> {
    embed: Linear<16, 16, f32, T>,
    /// 16 features = 2 heads x 8: checked when the example is built.
    attn: MultiheadAttention<16, 2, 8, f32, T>,
    norm: LayerNorm<16, f32, T>,
    head: Linear<16, 10, f32, T>,
}

impl RowAttention {
    fn new<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self {
            embed: Linear::new(rng),
            attn: MultiheadAttention::new(rng),
            norm: LayerNorm::new(),
            head: Linear::new(rng),
        }
    }
}

impl<T: Tracking<f32>> RowAttention<T> {
    /// The class scores of a batch of images given as tokens, static or run-time batch `B`.
    fn forward<B: Dim>(&self, tokens: Tensor<Tokens<B>>) -> Tensor<(B, Const<10>), f32, T> {
        let h = self.embed.forward(tokens).relu();
        let a = self.attn.forward(&h, &h, &h, false);
        let h = self.norm.forward(a + &h);
        self.head.forward(h.mean_axis::<1>())
    }
}

/// The rows of each image (64 pixels) as 8 tokens: the row's 8 pixels, then the one-hot of its
/// index.
fn tokens<B: Dim>(x: &Tensor<(B, Const<64>)>) -> Tensor<Tokens<B>> {
    let batch = x.typed_shape().0;
    let mut values = Vec::with_capacity(batch.size() * 8 * 16);
    for image in x.as_slice().chunks_exact(64) {
        for (row, pixels) in image.chunks_exact(8).enumerate() {
            values.extend_from_slice(pixels);
            values.extend((0..8).map(|k| if k == row { 1.0 } else { 0.0 }));
        }
    }
    Tensor::from_vec_with((batch, Const, Const), values).expect("16 values per token")
}

/// Mean loss and accuracy over every row of `data`, in one forward call (a run-time batch).
fn evaluate(model: &RowAttention, data: &Dataset<64, 10>) -> (f64, f64) {
    let (x, labels) = data.all::<f32>();
    let logits = model.forward(tokens(&x));
    (
        f64::from(cross_entropy(&logits, &labels).item()),
        accuracy(&logits, &labels),
    )
}

fn main() -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    let out_dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/attention"),
        PathBuf::from,
    );
    let mut rng = StdRng::seed_from_u64(SEED);
    let (train, test) = model::read_digits()?.shuffled(&mut rng).split(0.2);
    let mut model = RowAttention::new(&mut rng);
    println!(
        "digits as 8 rows of 8 pixels: {} training images, {} test images; {} parameters",
        train.len(),
        test.len(),
        model.param_count()
    );
    let mut opt = Adam::new(&model, LEARNING_RATE);
    let mut history: Vec<model::Epoch> = Vec::with_capacity(EPOCHS);
    println!("epoch  train loss  train acc  test acc   time");
    for epoch in 1..=EPOCHS {
        let order = train.clone().shuffled(&mut rng);
        let (mut loss_sum, mut steps) = (0.0, 0.0);
        for (x, labels) in order.batches::<BATCH, f32>() {
            let x = tokens(&x.into_dims());
            let (loss, grads): (f32, RowAttentionGrads) =
                model.value_and_grad(|m| cross_entropy(&m.forward(x.clone()), &labels));
            loss_sum += f64::from(loss);
            steps += 1.0;
            opt.step(&mut model, &grads);
        }
        let (_, train_acc) = evaluate(&model, &train);
        let (test_loss, test_acc) = evaluate(&model, &test);
        println!(
            "{epoch:>5}  {:>10.4}  {:>8.2} %  {:>6.2} %  {:>5.2} s",
            loss_sum / steps,
            100.0 * train_acc,
            100.0 * test_acc,
            start.elapsed().as_secs_f64()
        );
        history.push(model::Epoch {
            train_loss: loss_sum / steps,
            test_loss,
            train_acc,
            test_acc,
        });
    }
    let test_acc = history[EPOCHS - 1].test_acc;
    assert!(
        test_acc >= 0.95,
        "test accuracy {:.2} % is below 95 %",
        100.0 * test_acc
    );
    std::fs::create_dir_all(&out_dir)?;
    let svg_path = out_dir.join("attention_curves.svg");
    std::fs::write(&svg_path, plot::curves_svg(&history))?;
    println!(
        "test accuracy {:.2} % after {EPOCHS} epochs in {:.2} s",
        100.0 * test_acc,
        start.elapsed().as_secs_f64()
    );
    println!("curves: {}", svg_path.display());
    Ok(())
}
