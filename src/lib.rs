//! CPU tensors whose **shape is their type**.
//!
//! A `Tensor<Rank2<3, 4>>` is a 3 x 4 matrix of `f32`, and the compiler knows it: a matrix product whose
//! inner dimensions differ, a reshape that changes the element count, or an axis that does not exist is a
//! compile error at your call, not a panic in the middle of training. Reverse-mode autodiff records each
//! op on a [`Tape`], and gradients come back with the types of what they are gradients of.
//!
//! # Quickstart
//! ```
//! use shaped::{Rank1, Rank2, Tape, Tensor};
//!
//! // y = sum(relu(x W^T + b)), with the shapes in the types.
//! let x: Tensor<Rank2<2, 3>> = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
//! let w: Tensor<Rank2<2, 3>> = Tensor::from([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]]);
//! let b: Tensor<Rank1<2>> = Tensor::from([0.0, -4.0]);
//!
//! // The parameters w and b are watched: the tape keeps their gradients, with their types. The data
//! // x is not watched: it is a constant where it meets them.
//! let tape = Tape::new();
//! let (wt, bt) = (tape.watch(&w), tape.watch(&b));
//! let h = x.linear(&wt, &bt); // [2, 3] -> [2, 2]: [[-2, -1], [-2, 3.5]]
//! let y = h.relu().sum();
//! assert_eq!(y.item(), 3.5);
//!
//! let grads = y.backward();
//! let gw: Tensor<Rank2<2, 3>> = grads.get(&wt);
//! assert_eq!(gw.to_array(), [[0.0, 0.0, 0.0], [4.0, 5.0, 6.0]]); // only h[1][1] > 0: row 1 gets x[1]
//! assert_eq!(grads.get(&bt).to_vec(), vec![0.0, 1.0]);
//!
//! // Inference: the same ops off the tape record nothing.
//! assert_eq!(x.linear(&w, &b).relu().sum().item(), 3.5);
//! ```
//!
//! A shape mistake does not compile:
//! ```compile_fail
//! use shaped::{Rank2, Tensor};
//! let a: Tensor<Rank2<2, 3>> = Tensor::zeros();
//! let b: Tensor<Rank2<4, 5>> = Tensor::zeros();
//! let c = a.matmul(&b); // error: shape mismatch: cannot matmul `Rank2<2, 3>` by `Rank2<4, 5>`
//! ```
//!
//! # What the compiler checks
//! Every op's signature is its shape rule. The elementwise ops of two tensors (`+`, `-`, `*`, `/`)
//! need equal shapes, or one shape equal to the last axes of the other ([`BroadcastShapes`]);
//! [`Tensor::matmul`], [`Tensor::inner`], [`Tensor::linear`] and [`Tensor::bilinear`] need their
//! contracted dimensions to agree; reductions need the axis to exist; [`Tensor::broadcast_to`] needs
//! the target to have at least as many axes. Those are type errors, reported by `cargo check`. The
//! rules that need arithmetic on dimensions, which stable Rust's type system cannot do, are `const`
//! assertions instead, reported by `cargo build` (not `cargo check`): [`Tensor::reshape`] keeping the
//! element count, [`Tensor::broadcast_to`]'s per-axis sizes (each equal, or 1 in the source), the
//! bounds of [`Tensor::narrow`] and [`Tensor::split`], and the output shapes that the caller writes
//! for [`Tensor::concat`], [`Tensor::matmul_to`], the convolutions and the poolings (each op's docs
//! say which of its rules are checked this way).
//!
//! # Dimensions known at run time
//! A dimension may be a `usize`: the shape is then a tuple of dimensions, `(usize, Const<784>)` for any
//! number of rows of 784 (see [`shape`](mod@shape)). Rules between static dimensions are still type
//! errors; a rule that involves a run-time dimension is checked when the op runs, and panics with the
//! op and both sizes. Code written for a dimension `B: Dim` serves both.
//!
//! # Map
//! - [`shape`](mod@shape): the shape types [`Rank0`] to [`Rank6`], tuples of [`Dim`]s with run-time
//!   sizes, the [`Shape`] trait.
//! - [`Tensor`]: constructors, read-outs, formatting; the ops are its methods.
//! - [`tape`]: [`Tape`], [`NoTape`], [`Grads`]: reverse-mode autodiff.
//! - [`module`]: [`Module`] and `#[derive(Module)]`: a model's parameters as a typed tree, its gradients
//!   as a struct of the same shape, save and load (safetensors).
//! - [`nn`]: layers ([`nn::Linear`], [`nn::Bilinear`], [`nn::Conv1d`], [`nn::Conv2d`],
//!   [`nn::Embedding`], [`nn::MultiheadAttention`], [`nn::LayerNorm`], [`nn::BatchNorm1d`],
//!   [`nn::Dropout`], poolings), activations, losses, initializers ([`nn::init`]).
//! - [`optim`]: [`optim::Sgd`], [`optim::Adam`], [`optim::AdamW`], [`optim::RMSprop`],
//!   [`optim::Adagrad`]; learning-rate schedules ([`optim::schedule`]); clipping and accumulating
//!   gradients ([`optim::Gradients`]).
//! - [`data`]: CSV data sets, labelled ([`data::Dataset`]) or with real-valued targets
//!   ([`data::Regression`]), cut into static or run-time batches.
//! - [`custom`]: differentiable ops of your own ([`CustomOp`]).
//! - [`gradcheck()`]: check any function's gradient against central finite differences.
//! - `set_threads` (with the default feature `threading`): one or two threads for large matrix
//!   products and parameter updates; the results are the same, bit for bit, either way.
//! - [`Error`]: the error of the run-time boundaries (building a tensor from a `Vec`, reading data).
//!
//! # Semantics
//! Ops follow numpy and PyTorch: `inner` contracts the last axis of both operands (`np.inner`),
//! `linear` is `x W^T + b` (`F.linear`), `bilinear` is `x1 W_k x2^T + b_k` (`F.bilinear`), `relu` has
//! derivative 0 at 0, `powf` follows IEEE `pow`.

#![deny(missing_docs)]
#![warn(clippy::pedantic)]
#![allow(
    clippy::module_name_repetitions,
    clippy::many_single_char_names,
    clippy::similar_names,
    clippy::cast_precision_loss,
    clippy::float_cmp,
    clippy::too_many_lines,
    clippy::return_self_not_must_use
)]

// The derive macro names the crate `::shaped`; this makes that path work inside the crate too.
extern crate self as shaped;

mod buffer;
mod const_msg;
pub mod custom;
pub mod data;
mod element;
mod error;
mod fmt;
mod gemm;
pub mod gradcheck;
mod id;
mod io;
mod kernels;
pub mod module;
pub mod nn;
mod ops;
pub mod optim;
pub mod shape;
pub mod tape;
mod tensor;

pub use custom::{CustomOp, OpGrads};
pub use element::Element;
pub use error::{Error, ErrorKind};
#[cfg(feature = "threading")]
pub use gemm::set_threads;
pub use gradcheck::{GradCheck, GradCheckError, GradInputs, gradcheck};
pub use io::{LoadOptions, LoadReport};
pub use module::{Module, ParamInfo, Trainable};
pub use ops::*;
pub use rand;
pub use shape::{
    Const, Dim, NonScalar, Rank0, Rank1, Rank2, Rank3, Rank4, Rank5, Rank6, ReduceAxis,
    ReplaceLast, SameDim, Shape, StaticShape, Transposable, TupleShape,
};
pub use shaped_derive::Module;
pub use tape::{Grads, Merge, NoTape, OnTape, ScalarShape, Tape, Tracking, Watched};
pub use tensor::Tensor;

/// The README's code, compiled and run as a doctest so that it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
