//! Layers, activations and losses for building models.
//!
//! A model is a struct of layers and tensors with `#[derive(Module)]`, and a `forward` method written
//! generic over the tape, so one method serves training and inference.

mod loss;

pub use loss::{Labels, accuracy, binary_cross_entropy_with_logits, cross_entropy, mse};
