//! Normalization layers: [`LayerNorm`] over the last axis and [`BatchNorm1d`] over the batch, both
//! with a per-feature affine map, on one fused op with a hand-written backward.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::buffer::Buffer;
use crate::module::{
    BufferMut, BufferRef, Visit, VisitBuffers, VisitBuffersMut, VisitMut, ZipMut, push_segment,
};
use crate::ops::Merged;
use crate::tape::internal::Record;
use crate::{
    Const, Element, Grads, Merge, Module, NoTape, NonScalar, Rank1, Shape, Tape, Tensor, Tracking,
    Trainable,
};

/// How [`normalize_affine`] finds the mean and the spread of `x` seen as `[rows, d]`.
enum Stats<'a, E> {
    /// Over each row (layer normalization), with this `eps`.
    Rows(E),
    /// Over each column, with this `eps` (batch normalization in training).
    Cols(E),
    /// Given per column (batch normalization in evaluation): the mean and `1 / sqrt(var + eps)`.
    Fixed(&'a [E], &'a [E]),
}

/// `1 / sqrt(var + eps)`.
fn inv_std<E: Element>(var: E, eps: E) -> E {
    E::one() / (var + eps).sqrt()
}

/// `y[r, c] = xhat[r, c] w[c] + b[c]` for `x` seen as `[rows, d]`, `d` the length of `w`, where
/// `xhat` is `x` normalized as `stats` says; the biased mean and variance of each column when the
/// statistics are the batch's (to update running statistics), recorded for the backward:
/// `dw[c] = sum_r dy xhat`, `db[c] = sum_r dy`, and with `g = dy w`, over the `n` values of a
/// group (a row, or a column): `dx = inv (g - mean(g) - xhat mean(g xhat))`, or `dx = g inv` for
/// fixed statistics.
#[allow(clippy::type_complexity)]
fn normalize_affine<S: Shape, const D: usize, E: Element, X, T>(
    x: &Tensor<S, E, X>,
    w: &Tensor<Rank1<D>, E, T>,
    b: &Tensor<Rank1<D>, E, T>,
    stats: &Stats<'_, E>,
) -> (Tensor<S, E, Merged<E, X, T>>, Option<(Vec<E>, Vec<E>)>)
where
    X: Tracking<E> + Merge<E, T>,
    T: Tracking<E>,
    Merged<E, X, T>: Merge<E, T, Output = Merged<E, X, T>>,
{
    let (xv, wv, bv) = (x.data(), w.data(), b.data());
    let n = xv.len();
    let rows = n.checked_div(D).unwrap_or(0);
    let mut xhat = Buffer::uninit(n);
    let (inv, batch) = match *stats {
        Stats::Rows(eps) => {
            let mut inv = Vec::with_capacity(rows);
            let len = E::from_f64_lossy(D as f64);
            for (xr, hr) in xv.chunks_exact(D).zip(xhat.chunks_exact_mut(D)) {
                let mean = xr.iter().fold(E::zero(), |s, &v| s + v) / len;
                let var = xr
                    .iter()
                    .fold(E::zero(), |s, &v| s + (v - mean) * (v - mean))
                    / len;
                let k = inv_std(var, eps);
                for (h, &v) in hr.iter_mut().zip(xr) {
                    *h = (v - mean) * k;
                }
                inv.push(k);
            }
            (inv, None)
        }
        Stats::Cols(eps) => {
            let len = E::from_f64_lossy(rows as f64);
            let mut mean = vec![E::zero(); D];
            for xr in xv.chunks_exact(D) {
                for (m, &v) in mean.iter_mut().zip(xr) {
                    *m += v;
                }
            }
            for m in &mut mean {
                *m /= len;
            }
            let mut var = vec![E::zero(); D];
            for xr in xv.chunks_exact(D) {
                for ((s, &m), &v) in var.iter_mut().zip(&mean).zip(xr) {
                    *s += (v - m) * (v - m);
                }
            }
            for s in &mut var {
                *s /= len;
            }
            let inv: Vec<E> = var.iter().map(|&v| inv_std(v, eps)).collect();
            for (xr, hr) in xv.chunks_exact(D).zip(xhat.chunks_exact_mut(D)) {
                for (((h, &v), &m), &k) in hr.iter_mut().zip(xr).zip(&mean).zip(&inv) {
                    *h = (v - m) * k;
                }
            }
            (inv, Some((mean, var)))
        }
        Stats::Fixed(mean, inv) => {
            for (xr, hr) in xv.chunks_exact(D).zip(xhat.chunks_exact_mut(D)) {
                for (((h, &v), &m), &k) in hr.iter_mut().zip(xr).zip(mean).zip(inv) {
                    *h = (v - m) * k;
                }
            }
            (inv.to_vec(), None)
        }
    };
    let mut y = Buffer::uninit(n);
    for (yr, hr) in y.chunks_exact_mut(D).zip(xhat.chunks_exact(D)) {
        for (((o, &h), &wc), &bc) in yr.iter_mut().zip(hr).zip(wv.iter()).zip(bv.iter()) {
            *o = h * wc + bc;
        }
    }
    let by_rows = matches!(stats, Stats::Rows(_));
    let fixed = matches!(stats, Stats::Fixed(..));
    let xhat = Arc::new(xhat);
    let tape = x.tape().merge(w.tape()).merge(b.tape());
    let tape = tape.record([x.input(), w.input(), b.input()], n, |[nx, nw, nb]| {
        let (xhat, wv) = (Arc::clone(&xhat), Arc::clone(wv));
        Box::new(move |dy, grads| {
            if let Some(nw) = nw {
                let dw = grads.acc(nw);
                for (gr, hr) in dy.chunks_exact(D).zip(xhat.chunks_exact(D)) {
                    for ((d, &g), &h) in dw.iter_mut().zip(gr).zip(hr) {
                        *d += g * h;
                    }
                }
            }
            if let Some(nb) = nb {
                let db = grads.acc(nb);
                for gr in dy.chunks_exact(D) {
                    for (d, &g) in db.iter_mut().zip(gr) {
                        *d += g;
                    }
                }
            }
            let Some(nx) = nx else { return };
            let dx = grads.acc(nx);
            if fixed {
                for (dr, gr) in dx.chunks_exact_mut(D).zip(dy.chunks_exact(D)) {
                    for (((d, &g), &wc), &k) in dr.iter_mut().zip(gr).zip(wv.iter()).zip(&inv) {
                        *d += g * wc * k;
                    }
                }
            } else if by_rows {
                let len = E::from_f64_lossy(D as f64);
                let rows = dy.chunks_exact(D).zip(xhat.chunks_exact(D));
                for ((dr, (gr, hr)), &k) in dx.chunks_exact_mut(D).zip(rows).zip(&inv) {
                    let (mut sg, mut sgh) = (E::zero(), E::zero());
                    for ((&g, &wc), &h) in gr.iter().zip(wv.iter()).zip(hr) {
                        sg += g * wc;
                        sgh += g * wc * h;
                    }
                    let (mg, mgh) = (sg / len, sgh / len);
                    for (((d, &g), &wc), &h) in dr.iter_mut().zip(gr).zip(wv.iter()).zip(hr) {
                        *d += k * (g * wc - mg - h * mgh);
                    }
                }
            } else {
                let len = E::from_f64_lossy(rows as f64);
                let (mut sg, mut sgh) = (vec![E::zero(); D], vec![E::zero(); D]);
                for (gr, hr) in dy.chunks_exact(D).zip(xhat.chunks_exact(D)) {
                    for (c, (&g, &h)) in gr.iter().zip(hr).enumerate() {
                        sg[c] += g * wv[c];
                        sgh[c] += g * wv[c] * h;
                    }
                }
                for ((dr, gr), hr) in dx
                    .chunks_exact_mut(D)
                    .zip(dy.chunks_exact(D))
                    .zip(xhat.chunks_exact(D))
                {
                    for (c, ((d, &g), &h)) in dr.iter_mut().zip(gr).zip(hr).enumerate() {
                        let (mg, mgh) = (sg[c] / len, sgh[c] / len);
                        *d += inv[c] * (g * wv[c] - mg - h * mgh);
                    }
                }
            }
        })
    });
    (
        Tensor::from_parts(Arc::new(y), x.typed_shape(), tape),
        batch,
    )
}

/// Layer normalization over the last axis, PyTorch's `nn.LayerNorm(D)` (elementwise affine, with a
/// bias): for each row `x` of `D` values of an input `[.., D]`,
/// `y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias`, with the biased variance
/// (`sum (x - mean)^2 / D`). `weight` and `bias` are `[D]`, named as in PyTorch; `eps` is `1e-5`
/// unless set with [`with_eps`](LayerNorm::with_eps).
///
/// Derivative, with `xhat` the normalized row, `inv = 1 / sqrt(var + eps)` and `g = dy weight`:
/// `dx = inv (g - mean(g) - xhat mean(g xhat))`, `dweight = sum over rows of dy xhat`,
/// `dbias = sum over rows of dy`.
///
/// The input is any shape whose last axis is `D`, with static dimensions or run-time ones (a
/// batch `(usize, Const<D>)`); another last axis does not compile.
///
/// Edge values: a row that holds a NaN or an infinity gives NaN on the whole row (its mean does), as
/// in PyTorch; a constant row gives `bias` (`xhat` is 0: the variance is 0 and `eps` keeps the
/// division finite). Sums run in the element type, where PyTorch's CPU kernel keeps `f32` sums in
/// `f32` too: results agree to rounding.
///
/// ```
/// use shaped::nn::LayerNorm;
/// use shaped::{Module, Rank2, Tensor, Trainable};
///
/// let norm: LayerNorm<4, f64> = LayerNorm::new().with_eps(0.0);
/// assert_eq!(norm.params().iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["weight", "bias"]);
/// let x = Tensor::from([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 6.0, 6.0]]);
/// let y = norm.forward(x.clone());
/// // Row 2: mean 4, variance 4: (x - 4) / 2.
/// assert_eq!(y.to_array()[1], [-1.0, -1.0, 1.0, 1.0]);
///
/// // d sum(y * v) / d bias = the column sums of v; / d weight = the column sums of v xhat.
/// let (_, g) = norm.value_and_grad(|n| n.forward(x.clone()).sum());
/// assert_eq!(g.bias.to_array(), [2.0; 4]);
/// ```
#[derive(Module, Clone, Debug)]
pub struct LayerNorm<const D: usize, E: Element = f32, T: Tracking<E> = NoTape> {
    /// `[D]`, as `nn.LayerNorm.weight` (ones at first).
    pub weight: Tensor<Rank1<D>, E, T>,
    /// `[D]`, as `nn.LayerNorm.bias` (zeros at first).
    pub bias: Tensor<Rank1<D>, E, T>,
    /// Added to the variance before its square root (`1e-5` by default, as PyTorch).
    #[module(skip)]
    pub eps: E,
}

impl<const D: usize, E: Element> LayerNorm<D, E> {
    /// A layer with PyTorch's initialization: `weight` ones, `bias` zeros, `eps = 1e-5`.
    ///
    /// ```
    /// use shaped::nn::LayerNorm;
    /// let norm: LayerNorm<3> = LayerNorm::new();
    /// assert_eq!((norm.weight.to_vec(), norm.bias.to_vec(), norm.eps), (vec![1.0; 3], vec![0.0; 3], 1e-5));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::from_weights(Tensor::ones(), Tensor::zeros())
    }

    /// A layer with the given `weight` and `bias` (`[D]` each) and `eps = 1e-5`.
    ///
    /// ```
    /// use shaped::nn::LayerNorm;
    /// use shaped::Tensor;
    /// let norm = LayerNorm::from_weights(Tensor::from([2.0, 2.0]), Tensor::from([1.0, 0.0]));
    /// let y = norm.with_eps(0.0).forward(Tensor::from([[0.0, 4.0]]));
    /// assert_eq!(y.to_array(), [[-1.0, 2.0]]); // xhat = [-1, 1]
    /// ```
    #[must_use]
    pub fn from_weights(weight: Tensor<Rank1<D>, E>, bias: Tensor<Rank1<D>, E>) -> Self {
        Self {
            weight,
            bias,
            eps: E::from_f64_lossy(1e-5),
        }
    }
}

impl<const D: usize, E: Element> Default for LayerNorm<D, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const D: usize, E: Element, T: Tracking<E>> LayerNorm<D, E, T> {
    /// The same layer with another `eps` (PyTorch's `nn.LayerNorm(D, eps=...)`).
    #[must_use]
    pub fn with_eps(mut self, eps: E) -> Self {
        self.eps = eps;
        self
    }

    /// The normalized input, scaled and shifted: `[.., D]` in, `[.., D]` out (see the type's docs).
    #[must_use]
    #[allow(clippy::needless_pass_by_value)] // by value, so that layers chain
    pub fn forward<S, X>(&self, x: Tensor<S, E, X>) -> Tensor<S, E, Merged<E, X, T>>
    where
        S: NonScalar<Last = Const<D>>,
        X: Tracking<E> + Merge<E, T>,
        Merged<E, X, T>: Merge<E, T, Output = Merged<E, X, T>>,
    {
        normalize_affine(&x, &self.weight, &self.bias, &Stats::Rows(self.eps)).0
    }
}

/// The running statistics of a [`BatchNorm1d`], shared by the layer and the copies that
/// [`Tape::watch`] makes of it, so that a training forward on the tape updates the model's.
#[derive(Debug)]
struct Running<E> {
    mean: Vec<E>,
    var: Vec<E>,
    batches: u64,
}

/// Batch normalization of `C` features, PyTorch's `nn.BatchNorm1d(C)` on an input `[B, C]`:
/// `y = (x - mean) / sqrt(var + eps) * weight + bias` per feature (column), with
/// - in training ([`Module::train`], the mode a layer starts in), the batch's mean and biased
///   variance, and the running statistics updated as PyTorch does (momentum `0.1`):
///   `running_mean = (1 - m) running_mean + m mean`, `running_var = (1 - m) running_var +
///   m var B / (B - 1)` (the unbiased variance), `num_batches_tracked += 1`;
/// - in evaluation ([`Module::eval`]), the running statistics, which stay as they are.
///
/// Parameters `weight` (ones) and `bias` (zeros) `[C]`; buffers `running_mean` (zeros),
/// `running_var` (ones) `[C]` and `num_batches_tracked` (an `i64` scalar): PyTorch's `state_dict`
/// names, saved and loaded with the parameters ([`Module::visit_buffers`]).
///
/// The buffers are not parameters: [`Module::params`] and the optimizers do not see them, and the
/// gradient struct [`BatchNorm1dGrads`] has `weight` and `bias` only. A training forward changes
/// them through a shared reference (the layer keeps them behind a lock, shared with the copy that
/// [`Tape::watch`] makes, as a PyTorch buffer is updated in place by the forward); cloning the layer
/// copies them.
///
/// Derivative in training, with `xhat` the normalized column, `inv = 1 / sqrt(var + eps)`,
/// `g = dy weight` and means over the batch: `dx = inv (g - mean(g) - xhat mean(g xhat))`; in
/// evaluation `dx = g inv`; `dweight = sum over the batch of dy xhat`, `dbias = sum of dy`.
///
/// Edge values: a NaN or an infinity in a column makes that column NaN in training, and the
/// running statistics NaN, as in PyTorch.
///
/// # Panics
/// A training forward of a batch of fewer than 2 rows (PyTorch raises "Expected more than 1 value
/// per channel when training").
///
/// ```
/// use shaped::nn::BatchNorm1d;
/// use shaped::{Module, Rank2, Tensor};
///
/// let mut bn: BatchNorm1d<2, f64> = BatchNorm1d::new();
/// let x = Tensor::from([[1.0, 10.0], [3.0, 10.0]]);
/// let y = bn.forward(x.clone()); // training: the batch's statistics
/// assert!((y.to_array()[0][0] + 1.0).abs() < 1e-5); // (1 - 2) / sqrt(1 + 1e-5)
/// // running_mean = 0.9 * 0 + 0.1 * [2, 10]; running_var = 0.9 * 1 + 0.1 * [2, 0] (unbiased)
/// assert_eq!(bn.running_mean().to_vec(), vec![0.2, 1.0]);
/// assert_eq!(bn.running_var().to_vec(), vec![1.1, 0.9]);
/// let names: Vec<String> = bn.buffers().into_iter().map(|b| b.name).collect();
/// assert_eq!(names, ["running_mean", "running_var", "num_batches_tracked"]);
///
/// bn.eval(); // evaluation: the running statistics, unchanged
/// let _ = bn.forward(x);
/// assert_eq!(bn.num_batches_tracked(), 1);
/// ```
#[derive(Debug)]
pub struct BatchNorm1d<const C: usize, E: Element = f32, T: Tracking<E> = NoTape> {
    /// `[C]`, as `nn.BatchNorm1d.weight` (ones at first).
    pub weight: Tensor<Rank1<C>, E, T>,
    /// `[C]`, as `nn.BatchNorm1d.bias` (zeros at first).
    pub bias: Tensor<Rank1<C>, E, T>,
    /// Added to the variance before its square root (`1e-5`).
    pub eps: E,
    /// The weight of a new batch in the running statistics (`0.1`).
    pub momentum: E,
    running: Arc<Mutex<Running<E>>>,
    training: bool,
}

/// The gradients of a [`BatchNorm1d`]: its parameters `weight` and `bias` (the running statistics
/// are buffers, not trained).
#[derive(Clone, Debug)]
pub struct BatchNorm1dGrads<const C: usize, E: Element = f32> {
    /// The gradient of `weight`.
    pub weight: Tensor<Rank1<C>, E>,
    /// The gradient of `bias`.
    pub bias: Tensor<Rank1<C>, E>,
}

impl<const C: usize, E: Element> BatchNorm1d<C, E> {
    /// A layer with PyTorch's initialization, in training mode: `weight` ones, `bias` zeros,
    /// `running_mean` zeros, `running_var` ones, `eps = 1e-5`, `momentum = 0.1`.
    #[must_use]
    pub fn new() -> Self {
        Self::from_weights(Tensor::ones(), Tensor::zeros())
    }

    /// A layer with the given `weight` and `bias`, fresh running statistics (as [`new`](Self::new)).
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::{Module, Tensor};
    /// let mut bn: BatchNorm1d<1> = BatchNorm1d::from_weights(Tensor::from([2.0]), Tensor::from([1.0]));
    /// bn.eval(); // running mean 0, variance 1: y = 2 x / sqrt(1 + eps) + 1
    /// let y = bn.forward(Tensor::from([[3.0]]));
    /// assert!((y.to_array()[0][0] - 7.0).abs() < 1e-4);
    /// ```
    #[must_use]
    pub fn from_weights(weight: Tensor<Rank1<C>, E>, bias: Tensor<Rank1<C>, E>) -> Self {
        Self {
            weight,
            bias,
            eps: E::from_f64_lossy(1e-5),
            momentum: E::from_f64_lossy(0.1),
            running: Arc::new(Mutex::new(Running {
                mean: vec![E::zero(); C],
                var: vec![E::one(); C],
                batches: 0,
            })),
            training: true,
        }
    }

    /// The same layer with the given running statistics (a checkpoint's, another framework's).
    #[must_use]
    pub fn with_running_stats(
        self,
        mean: &Tensor<Rank1<C>, E>,
        var: &Tensor<Rank1<C>, E>,
        num_batches_tracked: u64,
    ) -> Self {
        {
            let mut r = self.stats();
            r.mean.copy_from_slice(mean.as_slice());
            r.var.copy_from_slice(var.as_slice());
            r.batches = num_batches_tracked;
        }
        self
    }
}

impl<const C: usize, E: Element> Default for BatchNorm1d<C, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const C: usize, E: Element, T: Tracking<E>> Clone for BatchNorm1d<C, E, T> {
    /// A copy with its own running statistics.
    fn clone(&self) -> Self {
        let r = self.stats();
        Self {
            weight: self.weight.clone(),
            bias: self.bias.clone(),
            eps: self.eps,
            momentum: self.momentum,
            running: Arc::new(Mutex::new(Running {
                mean: r.mean.clone(),
                var: r.var.clone(),
                batches: r.batches,
            })),
            training: self.training,
        }
    }
}

impl<const C: usize, E: Element, T: Tracking<E>> BatchNorm1d<C, E, T> {
    fn stats(&self) -> MutexGuard<'_, Running<E>> {
        // The statistics are written whole under the lock: a panic elsewhere leaves them valid.
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The running mean `[C]`.
    #[must_use]
    pub fn running_mean(&self) -> Tensor<Rank1<C>, E> {
        Tensor::from_data(self.stats().mean.clone())
    }

    /// The running (unbiased) variance `[C]`.
    #[must_use]
    pub fn running_var(&self) -> Tensor<Rank1<C>, E> {
        Tensor::from_data(self.stats().var.clone())
    }

    /// The number of training batches seen.
    #[must_use]
    pub fn num_batches_tracked(&self) -> u64 {
        self.stats().batches
    }

    /// Whether the layer is in training mode (see [`Module::train`]).
    #[must_use]
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// The normalized batch `[B, C]` (static or run-time `B`), scaled and shifted; in training the
    /// running statistics are updated (see the type's docs).
    ///
    /// # Panics
    /// In training, on a batch of fewer than 2 rows.
    #[must_use]
    #[track_caller]
    #[allow(clippy::needless_pass_by_value)] // by value, so that layers chain
    pub fn forward<S, X>(&self, x: Tensor<S, E, X>) -> Tensor<S, E, Merged<E, X, T>>
    where
        S: NonScalar<Last = Const<C>> + Shape<Dims = [usize; 2]>,
        X: Tracking<E> + Merge<E, T>,
        Merged<E, X, T>: Merge<E, T, Output = Merged<E, X, T>>,
    {
        if !self.training {
            let (mean, inv): (Vec<E>, Vec<E>) = {
                let r = self.stats();
                (
                    r.mean.clone(),
                    r.var.iter().map(|&v| inv_std(v, self.eps)).collect(),
                )
            };
            return normalize_affine(&x, &self.weight, &self.bias, &Stats::Fixed(&mean, &inv)).0;
        }
        let rows = x.shape()[0];
        assert!(
            rows > 1,
            "batch_norm: expected more than 1 value per channel when training, got a batch of \
             {rows} rows"
        );
        let (y, batch) = normalize_affine(&x, &self.weight, &self.bias, &Stats::Cols(self.eps));
        let (mean, var) = batch.expect("the batch's statistics");
        let m = self.momentum;
        let keep = E::one() - m;
        let unbias = E::from_f64_lossy(rows as f64) / E::from_f64_lossy((rows - 1) as f64);
        let mut r = self.stats();
        for (rm, &v) in r.mean.iter_mut().zip(&mean) {
            *rm = keep * *rm + m * v;
        }
        for (rv, &v) in r.var.iter_mut().zip(&var) {
            *rv = keep * *rv + m * (v * unbias);
        }
        r.batches += 1;
        y
    }
}

impl<const C: usize, E: Element> Module for BatchNorm1d<C, E> {
    type Elem = E;
    type Grads = BatchNorm1dGrads<C, E>;

    fn visit(&self, path: &mut String, f: &mut Visit<'_, E>) {
        visit_affine(&self.weight, &self.bias, path, f);
    }

    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, E>) {
        visit_affine_mut(&mut self.weight, &mut self.bias, path, f);
    }

    fn zip_mut(&mut self, other: &Self::Grads, f: &mut ZipMut<'_, E>) {
        self.weight.zip_mut(&other.weight, f);
        self.bias.zip_mut(&other.bias, f);
    }

    fn read_grads(&self, grads: &Grads<E>, trained: bool) -> Self::Grads {
        BatchNorm1dGrads {
            weight: self.weight.read_grads(grads, trained),
            bias: self.bias.read_grads(grads, trained),
        }
    }

    fn unused_into(
        &self,
        grads: &Grads<E>,
        trained: bool,
        path: &mut String,
        out: &mut Vec<String>,
    ) {
        for (name, t) in [("weight", &self.weight), ("bias", &self.bias)] {
            let len = push_segment(path, name);
            t.unused_into(grads, trained, path, out);
            path.truncate(len);
        }
    }

    fn zeros_like(&self) -> Self::Grads {
        BatchNorm1dGrads {
            weight: Tensor::zeros(),
            bias: Tensor::zeros(),
        }
    }

    fn visit_buffers(&self, path: &mut String, f: &mut VisitBuffers<'_, E>) {
        let r = self.stats();
        let dims = [C];
        for (name, values) in [("running_mean", &r.mean), ("running_var", &r.var)] {
            let len = push_segment(path, name);
            f(
                path,
                BufferRef::Values {
                    values,
                    dims: &dims,
                },
            );
            path.truncate(len);
        }
        let len = push_segment(path, "num_batches_tracked");
        f(path, BufferRef::Count(r.batches));
        path.truncate(len);
    }

    fn visit_buffers_mut(&mut self, path: &mut String, f: &mut VisitBuffersMut<'_, E>) {
        let mut r = self.stats();
        let r = &mut *r;
        let dims = [C];
        for (name, values) in [("running_mean", &mut r.mean), ("running_var", &mut r.var)] {
            let len = push_segment(path, name);
            f(
                path,
                BufferMut::Values {
                    values,
                    dims: &dims,
                },
            );
            path.truncate(len);
        }
        let len = push_segment(path, "num_batches_tracked");
        f(path, BufferMut::Count(&mut r.batches));
        path.truncate(len);
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}

impl<const C: usize, E: Element> Trainable for BatchNorm1d<C, E> {
    type Tracked = BatchNorm1d<C, E, Tape<E>>;

    /// The layer with `weight` and `bias` on the tape, its mode, and the running statistics shared
    /// with `self` (a training forward of the copy updates them).
    fn track(&self, tape: &Tape<E>) -> Self::Tracked {
        BatchNorm1d {
            weight: self.weight.track(tape),
            bias: self.bias.track(tape),
            eps: self.eps,
            momentum: self.momentum,
            running: Arc::clone(&self.running),
            training: self.training,
        }
    }
}

impl<const C: usize, E: Element> Module for BatchNorm1dGrads<C, E> {
    type Elem = E;
    type Grads = Self;

    fn visit(&self, path: &mut String, f: &mut Visit<'_, E>) {
        visit_affine(&self.weight, &self.bias, path, f);
    }

    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, E>) {
        visit_affine_mut(&mut self.weight, &mut self.bias, path, f);
    }

    fn zip_mut(&mut self, other: &Self, f: &mut ZipMut<'_, E>) {
        self.weight.zip_mut(&other.weight, f);
        self.bias.zip_mut(&other.bias, f);
    }

    fn read_grads(&self, grads: &Grads<E>, _trained: bool) -> Self {
        Self {
            weight: self.weight.read_grads(grads, false),
            bias: self.bias.read_grads(grads, false),
        }
    }

    fn unused_into(&self, _: &Grads<E>, _: bool, _: &mut String, _: &mut Vec<String>) {}

    fn zeros_like(&self) -> Self {
        Self {
            weight: Tensor::zeros(),
            bias: Tensor::zeros(),
        }
    }
}

/// Visits `weight` and `bias` under their names.
fn visit_affine<const C: usize, E: Element>(
    weight: &Tensor<Rank1<C>, E>,
    bias: &Tensor<Rank1<C>, E>,
    path: &mut String,
    f: &mut Visit<'_, E>,
) {
    for (name, t) in [("weight", weight), ("bias", bias)] {
        let len = push_segment(path, name);
        t.visit(path, f);
        path.truncate(len);
    }
}

/// Visits `weight` and `bias` under their names, mutable.
fn visit_affine_mut<const C: usize, E: Element>(
    weight: &mut Tensor<Rank1<C>, E>,
    bias: &mut Tensor<Rank1<C>, E>,
    path: &mut String,
    f: &mut VisitMut<'_, E>,
) {
    for (name, t) in [("weight", weight), ("bias", bias)] {
        let len = push_segment(path, name);
        t.visit_mut(path, f);
        path.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::random;
    use crate::{Rank2, Rank3, gradcheck};

    #[test]
    fn layer_norm_gradient_literal() {
        // One row x = [0, 2] (mean 1, variance 1, eps 0): xhat = [-1, 1], y = xhat w + b.
        // f = sum(y * v) with v = [1, 3], w = [2, 1]: g = v w = [2, 3], mean(g) = 2.5,
        // mean(g xhat) = (-2 + 3) / 2 = 0.5; dx = 1 * (g - 2.5 - xhat 0.5) = [0, 0].
        // dw = v xhat = [-1, 3], db = v = [1, 3].
        let norm = LayerNorm::from_weights(Tensor::from([2.0, 1.0]), Tensor::from([0.5, 0.0]))
            .with_eps(0.0);
        let x = Tensor::from([[0.0, 2.0]]);
        let v = Tensor::from([[1.0, 3.0]]);
        let tape = Tape::new();
        let (nt, xt) = (tape.watch(&norm), tape.watch(&x));
        let y = nt.forward(xt.clone());
        assert_eq!(y.to_array(), [[-1.5, 1.0]]);
        let grads = (y * &v).sum().backward();
        assert_eq!(grads.get(&xt).to_array(), [[0.0, 0.0]]);
        let g = norm.grads(&grads);
        assert_eq!(g.weight.to_array(), [-1.0, 3.0]);
        assert_eq!(g.bias.to_array(), [1.0, 3.0]);
    }

    #[test]
    fn layer_norm_gradients_match_finite_differences() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(1);
        let v: Tensor<Rank3<2, 3, 4>, f64> = random(2);
        let (w, b): (Tensor<Rank1<4>, f64>, Tensor<Rank1<4>, f64>) = (random(3), random(4));
        gradcheck(
            |(x, w, b)| {
                let norm = LayerNorm {
                    weight: w.clone(),
                    bias: b.clone(),
                    eps: 1e-5,
                };
                (norm.forward(x.clone()) * &v).sum()
            },
            (&x, &w, &b),
        )
        .unwrap();
        // x used twice: normalized, and added to the output.
        let norm = LayerNorm::from_weights(w, b);
        gradcheck(|x| ((norm.forward(x.clone()) + x) * &v).sum(), &x).unwrap();
    }

    #[test]
    fn layer_norm_on_a_run_time_batch() {
        let norm: LayerNorm<3, f64> = LayerNorm::from_weights(random(5), random(6));
        let x: Tensor<Rank2<4, 3>, f64> = random(7);
        let fixed = norm.forward(x.clone());
        let rows: Tensor<(usize, Const<3>), f64> =
            Tensor::from_vec_with((4, Const), x.to_vec()).unwrap();
        let dynamic = norm.forward(rows);
        let _: &Tensor<(usize, Const<3>), f64> = &dynamic;
        assert_eq!(dynamic.shape(), [4, 3]);
        assert_eq!(fixed.as_slice(), dynamic.as_slice());
    }

    #[test]
    fn batch_norm_gradient_literal() {
        // Two rows, one feature: x = [1, 3] (mean 2, biased variance 1, eps 0): xhat = [-1, 1].
        // f = sum(y * v), v = [2, 0], w = 3: g = v w = [6, 0], mean(g) = 3,
        // mean(g xhat) = -3; dx = 1 * (g - 3 - xhat (-3)) = [6 - 3 - 3, 0 - 3 + 3] = [0, 0].
        // dw = sum v xhat = -2, db = sum v = 2.
        let mut bn = BatchNorm1d::from_weights(Tensor::from([3.0]), Tensor::from([1.0]));
        bn.eps = 0.0;
        let x = Tensor::from([[1.0], [3.0]]);
        let v = Tensor::from([[2.0], [0.0]]);
        let tape = Tape::new();
        let (bt, xt) = (tape.watch(&bn), tape.watch(&x));
        let y = bt.forward(xt.clone());
        assert_eq!(y.to_array(), [[-2.0], [4.0]]);
        let grads = (y * &v).sum().backward();
        assert_eq!(grads.get(&xt).to_array(), [[0.0], [0.0]]);
        let g = bn.grads(&grads);
        assert_eq!((g.weight.to_array(), g.bias.to_array()), ([-2.0], [2.0]));
        // The copy on the tape updated the layer's own statistics: 0.1 * 2, 0.9 + 0.1 * 2.
        assert_eq!(bn.running_mean().to_array(), [0.2]);
        assert_eq!(bn.running_var().to_array(), [0.9 + 0.1 * 2.0]);
        assert_eq!(bn.num_batches_tracked(), 1);
    }

    #[test]
    fn batch_norm_gradients_match_finite_differences_in_both_modes() {
        let x: Tensor<Rank2<5, 3>, f64> = random(11);
        let v: Tensor<Rank2<5, 3>, f64> = random(12);
        let (w, b): (Tensor<Rank1<3>, f64>, Tensor<Rank1<3>, f64>) = (random(13), random(14));
        for training in [true, false] {
            let mut bn = BatchNorm1d::from_weights(w.clone(), b.clone()).with_running_stats(
                &random(15),
                &random::<Rank1<3>>(16).map(f64::abs),
                3,
            );
            bn.set_training(training);
            gradcheck(
                |(x, w, b)| {
                    let tracked = BatchNorm1d {
                        weight: w.clone(),
                        bias: b.clone(),
                        eps: bn.eps,
                        momentum: bn.momentum,
                        running: Arc::clone(&bn.running),
                        training,
                    };
                    (tracked.forward(x.clone()) * &v).sum()
                },
                (&x, &w, &b),
            )
            .unwrap();
        }
    }

    #[test]
    fn batch_norm_buffers_are_saved_and_loaded_but_not_trained() {
        let bn: BatchNorm1d<2, f64> = BatchNorm1d::new();
        let _ = bn.forward(Tensor::from([[1.0, 2.0], [3.0, 6.0]]));
        assert_eq!(bn.param_count(), 4);
        let bytes = bn.to_safetensors();
        let mut other: BatchNorm1d<2, f64> = BatchNorm1d::new();
        other.load_safetensors(&bytes).unwrap();
        assert_eq!(other.running_mean().to_array(), [0.2, 0.4]);
        // unbiased variances 2 and 8: 0.9 + 0.1 * [2, 8]
        assert_eq!(other.running_var().to_array(), [0.9 + 0.2, 0.9 + 0.8]);
        assert_eq!(other.num_batches_tracked(), 1);
    }

    #[test]
    fn batch_norm_on_a_run_time_batch() {
        let bn: BatchNorm1d<2, f64> = BatchNorm1d::new();
        let x = Tensor::from_vec_with((3_usize, Const::<2>), vec![1.0, 0.0, 2.0, 0.0, 3.0, 0.0]);
        let y = bn.forward(x.unwrap());
        assert_eq!(y.shape(), [3, 2]);
        // Column 0: mean 2, biased variance 2/3; column 1 is constant: 0.
        let k = 1.0 / (2.0_f64 / 3.0 + 1e-5).sqrt();
        assert_eq!(y.to_vec(), vec![-k, 0.0, 0.0, 0.0, k, 0.0]);
    }

    #[test]
    #[should_panic(
        expected = "batch_norm: expected more than 1 value per channel when training, got a batch of 1 rows"
    )]
    fn batch_norm_of_one_row_in_training_panics() {
        let bn: BatchNorm1d<2> = BatchNorm1d::new();
        let _ = bn.forward(Tensor::from([[1.0, 2.0]]));
    }
}
