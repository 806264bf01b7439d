//! Layers, activations and losses for building models.
//!
//! A model is a struct of layers and tensors with `#[derive(Module)]`, generic over its tracking
//! (`T: Tracking<f32> = NoTape`, passed on to its layers), with a `forward` method written for any
//! `T`, so that one method serves training and inference. The parameters are what goes on the tape:
//! [`Tape::watch`](crate::Tape::watch) puts the whole model there, and the data it is applied to
//! meets them as a constant.
//!
//! ```
//! use shaped::nn::{Linear, cross_entropy, Labels};
//! use shaped::optim::{Adam, Optimizer};
//! use shaped::rand::{SeedableRng, rngs::StdRng};
//! use shaped::{Module, NoTape, Rank2, Tape, Tensor, Tracking};
//!
//! #[derive(Module)]
//! struct Mlp<T: Tracking<f32> = NoTape> {
//!     l1: Linear<4, 8, f32, T>,
//!     l2: Linear<8, 3, f32, T>,
//! }
//!
//! impl<T: Tracking<f32>> Mlp<T> {
//!     fn forward(&self, x: Tensor<Rank2<2, 4>>) -> Tensor<Rank2<2, 3>, f32, T> {
//!         self.l2.forward(self.l1.forward(x).relu())
//!     }
//! }
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let mut model = Mlp { l1: Linear::new(&mut rng), l2: Linear::new(&mut rng) };
//! let mut opt = Adam::new(&model, 0.01);
//! let x = Tensor::from([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]]);
//! let labels = Labels::new([0, 2])?;
//! let mut losses = Vec::new();
//! for _ in 0..50 {
//!     let tape = Tape::new();
//!     let loss = {
//!         // The model's parameters on the tape; `x` is a constant.
//!         let m = tape.watch(&model);
//!         cross_entropy(&m.forward(x.clone()), &labels)
//!     };
//!     losses.push(loss.item());
//!     let grads: MlpGrads = model.grads(&loss.backward());
//!     opt.step(&mut model, &grads);
//! }
//! assert!(losses[49] < losses[0] / 10.0);
//! // Inference: the stored model (`T = NoTape`) records nothing.
//! let logits = model.forward(x);
//! assert_eq!(shaped::nn::accuracy(&logits, &labels), 1.0);
//! # Ok::<(), shaped::Error>(())
//! ```

mod activation;
mod attention;
mod bilinear;
mod conv;
mod dropout;
mod embedding;
pub mod init;
mod linear;
mod loss;
mod losses;
mod norm;
mod pool;
mod reduction;
mod sequential;

pub use activation::{ReLU, Sigmoid, Softmax, Tanh, log_softmax, relu, sigmoid, softmax, tanh};
pub use attention::{
    AttentionOptions, AttentionOutput, MultiheadAttention, MultiheadAttentionGrads, Sequence,
    scaled_dot_product_attention,
};
pub use bilinear::{Bilinear, BilinearGrads};
pub use conv::{Conv1d, Conv1dGrads, Conv2d, Conv2dGrads};
pub use dropout::{Dropout, NoParams, dropout_with_mask};
pub use embedding::{Embedding, EmbeddingGrads};
pub use linear::{Linear, LinearGrads};
pub(crate) use loss::classes_str;
pub use loss::{
    ClassScores, Labels, accuracy, binary_cross_entropy_with_logits, cross_entropy, mse, predict,
};
pub use losses::{
    bce_with_logits, huber_loss, kl_div, l1_loss, mse_loss, nll_loss, smooth_l1_loss,
};
pub use norm::{
    BatchNorm1d, BatchNorm1dGrads, BatchNormShape, LayerNorm, LayerNormGrads, LayerNormNoAffine,
};
pub use pool::{AvgPool2d, Flatten, FlattenShape, MaxPool2d};
pub use reduction::{BatchMean, Mean, NoReduction, Reduction, Sum};
pub use sequential::{Forward, Out, SampleShape};
#[doc(hidden)]
pub use sequential::{Layer, TrainLayer};
