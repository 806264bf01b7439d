//! The digits classifier that the `digits` example trains and the `predict` example serves: the model,
//! the data, training and evaluation. The `cnn` and `attention` examples also read the data and keep
//! their training logs with what is here.

use std::error::Error;
use std::path::{Path, PathBuf};

use shaped::data::Dataset;
use shaped::nn::{Linear, accuracy, cross_entropy};
use shaped::optim::{Adam, Optimizer};
use shaped::rand::{Rng, SeedableRng, rngs::StdRng};
use shaped::{Const, Dim, Module, NoTape, Tensor, Tracking};

pub const SEED: u64 = 0;
pub const BATCH: usize = 16;
pub const EPOCHS: usize = 40;
/// The peak learning rate; it follows a cosine from there down towards 0 over the epochs.
pub const LEARNING_RATE: f32 = 1e-2;

/// 64 pixels -> 64 hidden units -> 10 class scores (logits). Generic over its tracking: the stored
/// model is `Mlp` (`T = NoTape`), and on a tape its parameters record every op applied to them.
#[derive(Module)]
pub struct Mlp<T: Tracking<f32> = NoTape> {
    pub l1: Linear<64, 64, f32, T>,
    pub l2: Linear<64, 10, f32, T>,
}

impl Mlp {
    pub fn new<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Mlp {
            l1: Linear::new(rng),
            l2: Linear::new(rng),
        }
    }
}

impl<T: Tracking<f32>> Mlp<T> {
    /// One forward for training (the model on a tape) and inference (the stored model, no tape), for
    /// any batch: a static one (`B = Const<16>`) or one whose size is known only at run time
    /// (`B = usize`). It is compiled once for every run-time size.
    pub fn forward<B: Dim>(&self, x: Tensor<(B, Const<64>)>) -> Tensor<(B, Const<10>), f32, T> {
        self.l2.forward(self.l1.forward(x).relu())
    }
}

/// The 1797 images of `examples/data/digits.csv.gz` (64 pixel columns, then the digit), pixels scaled
/// from 0..16 to 0..1, in file order.
pub fn read_digits() -> Result<Dataset<64, 10>, Box<dyn Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/digits.csv.gz");
    Ok(Dataset::<64, 10>::read(path, false)?.map_features(|v| v / 16.0))
}

/// Where the `digits` example saves the trained model by default.
pub fn default_model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/digits/digits_mlp.safetensors")
}

/// Mean loss and accuracy over every row, in one forward call: the rows are one batch whose size is
/// known only at run time.
pub fn evaluate(model: &Mlp, data: &Dataset<64, 10>) -> (f64, f64) {
    let (x, labels) = data.all::<f32>();
    let logits = model.forward(x);
    (
        f64::from(cross_entropy(&logits, &labels).item()),
        accuracy(&logits, &labels),
    )
}

/// The learning rate of `epoch` (from 1): `peak (1 + cos(pi (epoch - 1) / epochs)) / 2`.
pub fn cosine(peak: f32, epoch: usize, epochs: usize) -> f32 {
    let t = (epoch - 1) as f32 / epochs as f32;
    peak * 0.5 * (1.0 + (core::f32::consts::PI * t).cos())
}

/// One line of the training log.
pub struct Epoch {
    pub train_loss: f64,
    pub test_loss: f64,
    pub train_acc: f64,
    pub test_acc: f64,
}

/// The header of the training log's lines.
pub const LOG_HEADER: &str = "epoch  train loss  train acc  test acc   time";

impl Epoch {
    /// The training log's line for this epoch, `seconds` after the start.
    pub fn log_line(&self, epoch: usize, seconds: f64) -> String {
        format!(
            "{epoch:>5}  {:>10.4}  {:>8.2} %  {:>6.2} %  {seconds:>5.2} s",
            self.train_loss,
            100.0 * self.train_acc,
            100.0 * self.test_acc,
        )
    }
}

/// The images shuffled with a fixed seed and split 80/20 (training, test), and the random generator
/// that training goes on with.
pub fn split() -> Result<(StdRng, Dataset<64, 10>, Dataset<64, 10>), Box<dyn Error>> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let (train, test) = read_digits()?.shuffled(&mut rng).split(0.2);
    Ok((rng, train, test))
}

/// Trains a new model with Adam on static mini-batches of 16 of `train`, calling `on_epoch` after each
/// epoch with the losses and accuracies on `train` and `test`. Returns the model and the log.
pub fn train(
    mut rng: StdRng,
    train: &Dataset<64, 10>,
    test: &Dataset<64, 10>,
    mut on_epoch: impl FnMut(usize, &Epoch),
) -> (Mlp, Vec<Epoch>) {
    let mut model = Mlp::new(&mut rng);
    let mut opt = Adam::new(&model, LEARNING_RATE);
    let mut history = Vec::new();
    for epoch in 1..=EPOCHS {
        opt.set_lr(cosine(LEARNING_RATE, epoch, EPOCHS));
        // A new order every epoch; the rows past the last full batch wait for the next order.
        let order = train.clone().shuffled(&mut rng);
        let (mut loss_sum, mut steps) = (0.0, 0.0);
        for (x, labels) in order.batches::<BATCH, f32>() {
            // A static batch of 16, seen as `(Const<16>, Const<64>)`. The parameters go on a fresh
            // tape, the batch is a constant; the gradients come back as an `MlpGrads`, the model's
            // own fields and types.
            let (loss, grads): (f32, MlpGrads) =
                model.value_and_grad(|m| cross_entropy(&m.forward(x.into_dims()), &labels));
            loss_sum += f64::from(loss);
            steps += 1.0;
            opt.step(&mut model, &grads);
        }
        let (_, train_acc) = evaluate(&model, train);
        let (test_loss, test_acc) = evaluate(&model, test);
        let e = Epoch {
            train_loss: loss_sum / steps,
            test_loss,
            train_acc,
            test_acc,
        };
        on_epoch(epoch, &e);
        history.push(e);
    }
    (model, history)
}
