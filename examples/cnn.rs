//! Handwritten digits with a small convolutional network: 8x8 images through conv 3x3 (1 -> 16
//! channels) -> ReLU -> max pool 2 -> conv 3x3 (16 -> 32) -> ReLU -> max pool 2 -> flatten -> linear
//! (128 -> 10), trained with Adam and cross-entropy to at least 98.5 % test accuracy in a few seconds
//! (release build).
//!
//! The data and its split are the `digits` example's (`examples/data/digits.csv.gz`, shuffled with a
//! fixed seed and split 80/20, see `digits/model.rs`), so the two accuracies compare. Each epoch
//! reshuffles the training rows and takes static mini-batches of 16 images; the evaluation scores every
//! image in one forward call, as a batch whose size is known only at run time. At the end the example
//! writes the training curves as an SVG.
//!
//! Run: `cargo run --release --example cnn` (the curves go to `target/digits/cnn_curves.svg`), or
//! `cargo run --release --example cnn -- OUT_DIR`.

// The MLP half of the digits example's model file is not used here.
#[allow(dead_code)]
#[path = "digits/model.rs"]
mod model;
#[path = "digits/plot.rs"]
mod plot;

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use shaped::data::Dataset;
use shaped::nn::{Conv2d, Flatten, Linear, MaxPool2d, accuracy, cross_entropy};
use shaped::optim::{Adam, Optimizer};
use shaped::rand::Rng;
use shaped::{Const, Dim, Module, NoTape, Tensor, Tracking};

use model::Epoch;

const BATCH: usize = 16;
const EPOCHS: usize = 15;
/// The peak learning rate; it follows a cosine from there down towards 0 over the epochs.
const LEARNING_RATE: f32 = 5e-3;

/// A batch of `B` single-channel 8x8 images.
type Images<B> = Tensor<(B, Const<1>, Const<8>, Const<8>)>;

/// Two convolutions with padding 1 (they keep the size), each followed by ReLU and a 2x2 max pool
/// (which halves it), then a linear layer on the 32 x 2 x 2 features. PyTorch's `nn.Conv2d(1, 16, 3,
/// padding=1)`, `nn.Conv2d(16, 32, 3, padding=1)` and `nn.Linear(128, 10)`, with their parameter names.
#[derive(Module)]
struct Cnn<T: Tracking<f32> = NoTape> {
    conv1: Conv2d<1, 16, 3, f32, T, 1, 1>,
    conv2: Conv2d<16, 32, 3, f32, T, 1, 1>,
    fc: Linear<128, 10, f32, T>,
}

impl Cnn {
    fn new<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Cnn {
            conv1: Conv2d::new(rng),
            conv2: Conv2d::new(rng),
            fc: Linear::new(rng),
        }
    }
}

impl<T: Tracking<f32>> Cnn<T> {
    /// The class scores of a batch of any size: a static one in training, a run-time one in the
    /// evaluation. Each step's type is written: a wrong size is a build error.
    fn forward<B: Dim>(&self, x: Images<B>) -> Tensor<(B, Const<10>), f32, T> {
        let h: Tensor<(B, Const<16>, Const<8>, Const<8>), f32, T> = self.conv1.forward(x);
        let h: Tensor<(B, Const<16>, Const<4>, Const<4>), f32, T> =
            MaxPool2d::<2>.forward(h.relu());
        let h: Tensor<(B, Const<32>, Const<4>, Const<4>), f32, T> = self.conv2.forward(h);
        let h: Tensor<(B, Const<32>, Const<2>, Const<2>), f32, T> =
            MaxPool2d::<2>.forward(h.relu());
        let h: Tensor<(B, Const<128>), f32, T> = Flatten.forward(h);
        self.fc.forward(h)
    }
}

/// Mean loss and accuracy over every image, in one forward call (a batch of run-time size).
fn evaluate(model: &Cnn, data: &Dataset<64, 10>) -> (f64, f64) {
    let (x, labels) = data.all::<f32>();
    let logits = model.forward::<usize>(x.reshape());
    (
        f64::from(cross_entropy(&logits, &labels).item()),
        accuracy(&logits, &labels),
    )
}

fn main() -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    let out_dir = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/digits")),
        PathBuf::from,
    );
    let (mut rng, train, test) = model::split()?;
    let mut model = Cnn::new(&mut rng);
    println!(
        "digits: {} training images, {} test images, batches of {BATCH}",
        train.len(),
        test.len()
    );
    println!(
        "model: conv 1->16 -> ReLU -> pool -> conv 16->32 -> ReLU -> pool -> linear 128->10, {} parameters",
        model.param_count()
    );
    println!("{}", model::LOG_HEADER);
    let mut opt = Adam::new(&model, LEARNING_RATE);
    let mut history = Vec::new();
    for epoch in 1..=EPOCHS {
        opt.set_lr(model::cosine(LEARNING_RATE, epoch, EPOCHS));
        let order = train.clone().shuffled(&mut rng);
        let (mut loss_sum, mut steps) = (0.0, 0.0);
        for (x, labels) in order.batches::<BATCH, f32>() {
            // A static batch of 16 rows of 64 pixels, seen as 16 images of 1 x 8 x 8.
            let x: Images<Const<BATCH>> = x.reshape();
            let (loss, grads): (f32, CnnGrads) =
                model.value_and_grad(|m| cross_entropy(&m.forward(x), &labels));
            loss_sum += f64::from(loss);
            steps += 1.0;
            opt.step(&mut model, &grads);
        }
        let (_, train_acc) = evaluate(&model, &train);
        let (test_loss, test_acc) = evaluate(&model, &test);
        let e = Epoch {
            train_loss: loss_sum / steps,
            test_loss,
            train_acc,
            test_acc,
        };
        println!("{}", e.log_line(epoch, start.elapsed().as_secs_f64()));
        history.push(e);
    }
    let last = history.last().expect("at least one epoch");
    assert!(
        last.test_acc >= 0.985,
        "test accuracy {:.2} % is below 98.5 %",
        100.0 * last.test_acc
    );
    std::fs::create_dir_all(&out_dir)?;
    let svg_path = out_dir.join("cnn_curves.svg");
    std::fs::write(&svg_path, plot::curves_svg(&history))?;
    println!(
        "test accuracy {:.2} % after {EPOCHS} epochs in {:.2} s",
        100.0 * last.test_acc,
        start.elapsed().as_secs_f64()
    );
    println!("curves: {}", svg_path.display());
    Ok(())
}
