//! The two training steps the benches and the allocation test share: each model written with the
//! crate's public API as a user would, and the same step written by hand (`reference.rs`).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use shaped::nn::{Labels, Linear, cross_entropy, mse};
use shaped::optim::{Optimizer, Sgd};
use shaped::{Const, Dim, Module, NoTape, Rank2, Tensor, Tracking};

use super::reference;

const LR: f32 = 0.01;

// ---- the 784 -> 128 -> 10 MLP ----

const B: usize = 64;

#[derive(Module, Clone)]
struct Mlp<T: Tracking<f32> = NoTape> {
    l1: Linear<784, 128, f32, T>,
    l2: Linear<128, 10, f32, T>,
}

impl<T: Tracking<f32>> Mlp<T> {
    fn forward<const N: usize>(&self, x: Tensor<Rank2<N, 784>>) -> Tensor<Rank2<N, 10>, f32, T> {
        self.l2.forward(self.l1.forward(x).relu())
    }

    /// The same network for any number of rows, known at run time or not.
    fn forward_rows<D: Dim>(&self, x: Tensor<(D, Const<784>)>) -> Tensor<(D, Const<10>), f32, T> {
        self.l2.forward(self.l1.forward(x).relu())
    }
}

fn mlp_step(
    model: &mut Mlp,
    opt: &mut Sgd<Mlp>,
    x: &Tensor<Rank2<B, 784>>,
    labels: &Labels<Const<B>, 10>,
) -> f32 {
    let (loss, grads) = model.value_and_grad(|m| cross_entropy(&m.forward(x.clone()), labels));
    opt.step(model, &grads);
    loss
}

pub struct MlpCase {
    model: Mlp,
    opt: Sgd<Mlp>,
    x: Tensor<Rank2<B, 784>>,
    labels: Labels<Const<B>, 10>,
    reference: reference::Mlp,
    x_flat: Vec<f32>,
}

fn bias(layer: &Linear<784, 128>) -> Vec<f32> {
    layer.bias.as_ref().map(Tensor::to_vec).unwrap_or_default()
}

pub fn mlp_case() -> MlpCase {
    let mut rng = StdRng::seed_from_u64(7);
    let model = Mlp {
        l1: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
    };
    let x: Tensor<Rank2<B, 784>> = Tensor::uniform(&mut rng, 0.0, 1.0);
    let ids: [usize; B] = std::array::from_fn(|_| rng.random_range(0..10));
    let reference = reference::Mlp::new(
        (B, 784, 128, 10),
        model.l1.weight.to_vec(),
        bias(&model.l1),
        model.l2.weight.to_vec(),
        model
            .l2
            .bias
            .as_ref()
            .map(Tensor::to_vec)
            .unwrap_or_default(),
    );
    MlpCase {
        opt: Sgd::new(&model, LR),
        model,
        x_flat: x.to_vec(),
        x,
        labels: Labels::new(ids).expect("ids are below 10"),
        reference,
    }
}

impl MlpCase {
    pub fn shaped(&mut self) -> f32 {
        mlp_step(&mut self.model, &mut self.opt, &self.x, &self.labels)
    }

    /// The same step on the same rows as a batch whose size (64) is known only at run time.
    pub fn run_time(&self) -> MlpRunTime {
        MlpRunTime {
            model: self.model.clone(),
            opt: Sgd::new(&self.model, LR),
            x: Tensor::from_slice_with((B, Const), self.x.as_slice()).expect("64 rows of 784"),
            labels: Labels::from_slice(self.labels.as_slice()).expect("ids are below 10"),
        }
    }

    /// Scores one row, as a static `[1, 784]` batch (the model is not changed).
    pub fn score_static(&self, row: &Tensor<Rank2<1, 784>>) -> f32 {
        self.model.forward(row.clone()).as_slice()[0]
    }

    /// Scores one row, as a run-time batch of one row.
    pub fn score_run_time(&self, row: &Tensor<(usize, Const<784>)>) -> f32 {
        self.model.forward_rows(row.clone()).as_slice()[0]
    }

    /// One row of the batch, both ways.
    pub fn one_row(&self) -> (Tensor<Rank2<1, 784>>, Tensor<(usize, Const<784>)>) {
        let row = &self.x.as_slice()[..784];
        (
            Tensor::from_slice(row).expect("784 values"),
            Tensor::from_slice_with((1, Const), row).expect("784 values"),
        )
    }
    pub fn hand_written(&mut self) -> f32 {
        self.reference
            .step(&self.x_flat, self.labels.as_slice(), LR)
    }
}

/// The MLP step on a batch of 64 rows whose count is known only at run time.
pub struct MlpRunTime {
    model: Mlp,
    opt: Sgd<Mlp>,
    x: Tensor<(usize, Const<784>)>,
    labels: Labels<usize, 10>,
}

impl MlpRunTime {
    pub fn step(&mut self) -> f32 {
        let (x, labels) = (&self.x, &self.labels);
        let (loss, grads) = self
            .model
            .value_and_grad(|m| cross_entropy(&m.forward_rows(x.clone()), labels));
        self.opt.step(&mut self.model, &grads);
        loss
    }
}

// ---- the tiny 2 -> 16 -> 16 -> 1 MLP ----

const TB: usize = 32;

#[derive(Module, Clone)]
struct TinyNet<T: Tracking<f32> = NoTape> {
    l1: Linear<2, 16, f32, T>,
    l2: Linear<16, 16, f32, T>,
    l3: Linear<16, 1, f32, T>,
}

impl<T: Tracking<f32>> TinyNet<T> {
    fn forward(&self, x: Tensor<Rank2<TB, 2>>) -> Tensor<Rank2<TB, 1>, f32, T> {
        self.l3
            .forward(self.l2.forward(self.l1.forward(x).relu()).relu())
    }
}

pub struct TinyCase {
    model: TinyNet,
    opt: Sgd<TinyNet>,
    x: Tensor<Rank2<TB, 2>>,
    target: Tensor<Rank2<TB, 1>>,
    reference: reference::Tiny,
    x_flat: Vec<f32>,
    target_flat: Vec<f32>,
}

pub fn tiny_case() -> TinyCase {
    let mut rng = StdRng::seed_from_u64(8);
    let model = TinyNet {
        l1: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
        l3: Linear::new(&mut rng),
    };
    let x: Tensor<Rank2<TB, 2>> = Tensor::uniform(&mut rng, -1.0, 1.0);
    let target = Tensor::<Rank2<TB, 1>>::from_fn(|[i, _]| (x[[i, 0]] * x[[i, 1]]).signum());
    let b =
        |v: &Option<Tensor<shaped::Rank1<16>>>| v.as_ref().map(Tensor::to_vec).unwrap_or_default();
    let reference = reference::Tiny::new(
        (TB, 2, 16),
        [
            model.l1.weight.to_vec(),
            model.l2.weight.to_vec(),
            model.l3.weight.to_vec(),
        ],
        [
            b(&model.l1.bias),
            b(&model.l2.bias),
            model
                .l3
                .bias
                .as_ref()
                .map(Tensor::to_vec)
                .unwrap_or_default(),
        ],
    );
    TinyCase {
        opt: Sgd::new(&model, LR),
        model,
        x_flat: x.to_vec(),
        target_flat: target.to_vec(),
        x,
        target,
        reference,
    }
}

impl TinyCase {
    pub fn shaped(&mut self) -> f32 {
        let (x, target) = (&self.x, &self.target);
        let (loss, grads) = self
            .model
            .value_and_grad(|m| mse(&m.forward(x.clone()), target));
        self.opt.step(&mut self.model, &grads);
        loss
    }
    pub fn hand_written(&mut self) -> f32 {
        self.reference.step(&self.x_flat, &self.target_flat, LR)
    }
}

/// A model trained both ways.
pub trait Case {
    fn shaped(&mut self) -> f32;
    fn hand_written(&mut self) -> f32;
}

impl Case for MlpCase {
    fn shaped(&mut self) -> f32 {
        MlpCase::shaped(self)
    }
    fn hand_written(&mut self) -> f32 {
        MlpCase::hand_written(self)
    }
}

impl Case for TinyCase {
    fn shaped(&mut self) -> f32 {
        TinyCase::shaped(self)
    }
    fn hand_written(&mut self) -> f32 {
        TinyCase::hand_written(self)
    }
}
