//! Normalization layers: [`LayerNorm`] over the last axis and [`BatchNorm1d`] over the batch (and
//! the length of sequences), both with a per-channel affine map, on one fused op with a
//! hand-written backward.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::dropout::no_params_module;
use crate::buffer::Buffer;
use crate::module::{
    BufferMut, BufferRef, Visit, VisitBuffers, VisitBuffersMut, VisitMut, ZipMut, push_segment,
};
use crate::ops::Merged;
use crate::tape::internal::Record;
use crate::{
    Const, Dim, Element, Grads, Merge, Module, NoTape, NonScalar, Rank1, Rank2, Rank3, Shape, Tape,
    Tensor, Tracking, Trainable,
};

/// How [`Normalized::new`] finds the mean and the spread of `x` seen as `[outer, C, inner]`.
enum Stats<'a, E> {
    /// Over each row of `C` values, `inner = 1` (layer normalization), with this `eps`.
    Rows(E),
    /// Over each channel: its `outer * inner` values (batch normalization in training), with this
    /// `eps`.
    Channels(E),
    /// Given per channel (batch normalization in evaluation): the mean and `1 / sqrt(var + eps)`.
    Fixed(&'a [E], &'a [E]),
}

/// The mean and the biased variance of each channel, when the statistics are the batch's.
type BatchStats<E> = Option<(Vec<E>, Vec<E>)>;

/// `1 / sqrt(var + eps)`.
fn inv_std<E: Element>(var: E, eps: E) -> E {
    E::one() / (var + eps).sqrt()
}

/// The runs of `inner` values of `v` seen as `[outer, c, inner]`, with their channel.
fn runs<E>(v: &[E], c: usize, inner: usize) -> impl Iterator<Item = (usize, &[E])> {
    // An empty tensor has no runs (and `chunks_exact` needs a length above 0).
    v.chunks_exact(inner.max(1))
        .enumerate()
        .map(move |(k, r)| (k % c, r))
}

/// [`runs`], mutable.
fn runs_mut<E>(v: &mut [E], c: usize, inner: usize) -> impl Iterator<Item = (usize, &mut [E])> {
    v.chunks_exact_mut(inner.max(1))
        .enumerate()
        .map(move |(k, r)| (k % c, r))
}

/// `x` seen as `[outer, c, inner]` and normalized as the [`Stats`] say: `xhat = (x - mean) inv`,
/// `inv = 1 / sqrt(var + eps)` per group (a row, or a channel), with the biased variance. The
/// backward of the normalization, with `g = dy w[c]` (`w` the per-channel scale that follows, 1
/// without one), over the `n` values of a group: `dx = inv (g - mean(g) - xhat mean(g xhat))`,
/// or `dx = g inv` for fixed statistics.
struct Normalized<E: Element> {
    xhat: Arc<Buffer<E>>,
    /// Per row, or per channel.
    inv: Vec<E>,
    c: usize,
    inner: usize,
    by_rows: bool,
    fixed: bool,
}

impl<E: Element> Normalized<E> {
    /// The normalized values, and the mean and biased variance of each channel when the statistics
    /// are the batch's (to update running statistics).
    fn new(xv: &[E], c: usize, inner: usize, stats: &Stats<'_, E>) -> (Self, BatchStats<E>) {
        let n = xv.len();
        let mut xhat = Buffer::uninit(n);
        let (inv, batch) = match *stats {
            Stats::Rows(eps) => {
                let len = E::from_f64_lossy(c as f64);
                let mut inv = Vec::with_capacity(n.checked_div(c).unwrap_or(0));
                for (xr, hr) in xv
                    .chunks_exact(c.max(1))
                    .zip(xhat.chunks_exact_mut(c.max(1)))
                {
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
            Stats::Channels(eps) => {
                let len = E::from_f64_lossy(n.checked_div(c).unwrap_or(0) as f64);
                let mut mean = vec![E::zero(); c];
                for (ch, r) in runs(xv, c, inner) {
                    mean[ch] += r.iter().fold(E::zero(), |s, &v| s + v);
                }
                for m in &mut mean {
                    *m /= len;
                }
                let mut var = vec![E::zero(); c];
                for (ch, r) in runs(xv, c, inner) {
                    let m = mean[ch];
                    var[ch] += r.iter().fold(E::zero(), |s, &v| s + (v - m) * (v - m));
                }
                for s in &mut var {
                    *s /= len;
                }
                let inv: Vec<E> = var.iter().map(|&v| inv_std(v, eps)).collect();
                Self::center(&mut xhat, xv, c, inner, &mean, &inv);
                (inv, Some((mean, var)))
            }
            Stats::Fixed(mean, inv) => {
                Self::center(&mut xhat, xv, c, inner, mean, inv);
                (inv.to_vec(), None)
            }
        };
        let normalized = Self {
            xhat: Arc::new(xhat),
            inv,
            c,
            inner,
            by_rows: matches!(stats, Stats::Rows(_)),
            fixed: matches!(stats, Stats::Fixed(..)),
        };
        (normalized, batch)
    }

    /// `xhat = (x - mean[c]) inv[c]` per channel.
    fn center(xhat: &mut [E], xv: &[E], c: usize, inner: usize, mean: &[E], inv: &[E]) {
        for ((ch, hr), (_, xr)) in runs_mut(xhat, c, inner).zip(runs(xv, c, inner)) {
            let (m, k) = (mean[ch], inv[ch]);
            for (h, &v) in hr.iter_mut().zip(xr) {
                *h = (v - m) * k;
            }
        }
    }

    /// Adds the gradient of `x` to `dx`, for the scale `w` (per channel; 1 when `None`).
    fn backward_x(&self, dx: &mut [E], dy: &[E], w: Option<&[E]>) {
        let (c, inner, inv) = (self.c, self.inner, &self.inv);
        let scale = |ch: usize| w.map_or(E::one(), |w| w[ch]);
        if self.fixed {
            for ((ch, dr), (_, gr)) in runs_mut(dx, c, inner).zip(runs(dy, c, inner)) {
                let k = scale(ch) * inv[ch];
                for (d, &g) in dr.iter_mut().zip(gr) {
                    *d += g * k;
                }
            }
        } else if self.by_rows {
            let len = E::from_f64_lossy(c as f64);
            let rows = dy
                .chunks_exact(c.max(1))
                .zip(self.xhat.chunks_exact(c.max(1)));
            for ((dr, (gr, hr)), &k) in dx.chunks_exact_mut(c.max(1)).zip(rows).zip(inv) {
                let (mut sg, mut sgh) = (E::zero(), E::zero());
                for (ch, (&g, &h)) in gr.iter().zip(hr).enumerate() {
                    let g = g * scale(ch);
                    sg += g;
                    sgh += g * h;
                }
                let (mg, mgh) = (sg / len, sgh / len);
                for (ch, ((d, &g), &h)) in dr.iter_mut().zip(gr).zip(hr).enumerate() {
                    *d += k * (g * scale(ch) - mg - h * mgh);
                }
            }
        } else {
            let len = E::from_f64_lossy(dy.len().checked_div(c).unwrap_or(0) as f64);
            let (mut sg, mut sgh) = (vec![E::zero(); c], vec![E::zero(); c]);
            for ((ch, gr), (_, hr)) in runs(dy, c, inner).zip(runs(&self.xhat, c, inner)) {
                let s = scale(ch);
                for (&g, &h) in gr.iter().zip(hr) {
                    sg[ch] += g * s;
                    sgh[ch] += g * s * h;
                }
            }
            let groups = runs(dy, c, inner).zip(runs(&self.xhat, c, inner));
            for ((ch, dr), ((_, gr), (_, hr))) in runs_mut(dx, c, inner).zip(groups) {
                let (s, k) = (scale(ch), inv[ch]);
                let (mg, mgh) = (sg[ch] / len, sgh[ch] / len);
                for ((d, &g), &h) in dr.iter_mut().zip(gr).zip(hr) {
                    *d += k * (g * s - mg - h * mgh);
                }
            }
        }
    }
}

/// `y = xhat w[c] + b[c]` for `x` seen as `[outer, C, inner]` (`C` the length of `w`, `inner` 1 for
/// layer normalization), where `xhat` is `x` normalized as `stats` says ([`Normalized`]); the
/// batch's statistics, when they are used. Recorded for the backward: `dw[c] = sum dy xhat`,
/// `db[c] = sum dy` over the channel's values, and `dx` as [`Normalized::backward_x`] with `w`.
#[allow(clippy::type_complexity)]
fn normalize_affine<S: Shape, const C: usize, E: Element, X, T>(
    x: &Tensor<S, E, X>,
    (w, b): (&Tensor<Rank1<C>, E, T>, &Tensor<Rank1<C>, E, T>),
    inner: usize,
    stats: &Stats<'_, E>,
) -> (Tensor<S, E, Merged<E, X, T>>, BatchStats<E>)
where
    X: Tracking<E> + Merge<E, T>,
    T: Tracking<E>,
    Merged<E, X, T>: Merge<E, T, Output = Merged<E, X, T>>,
{
    let (xv, wv, bv) = (x.data(), w.data(), b.data());
    let n = xv.len();
    let (norm, batch) = Normalized::new(xv, C, inner, stats);
    let mut y = Buffer::uninit(n);
    for ((ch, yr), (_, hr)) in runs_mut(&mut y, C, inner).zip(runs(&norm.xhat, C, inner)) {
        let (wc, bc) = (wv[ch], bv[ch]);
        for (o, &h) in yr.iter_mut().zip(hr) {
            *o = h * wc + bc;
        }
    }
    let tape = x.tape().merge(w.tape()).merge(b.tape());
    let tape = tape.record([x.input(), w.input(), b.input()], n, |[nx, nw, nb]| {
        let wv = Arc::clone(wv);
        Box::new(move |dy, grads| {
            if let Some(nw) = nw {
                let dw = grads.acc(nw);
                for ((ch, gr), (_, hr)) in runs(dy, C, inner).zip(runs(&norm.xhat, C, inner)) {
                    dw[ch] += gr.iter().zip(hr).fold(E::zero(), |s, (&g, &h)| s + g * h);
                }
            }
            if let Some(nb) = nb {
                let db = grads.acc(nb);
                for (ch, gr) in runs(dy, C, inner) {
                    db[ch] += gr.iter().fold(E::zero(), |s, &g| s + g);
                }
            }
            if let Some(nx) = nx {
                norm.backward_x(grads.acc(nx), dy, Some(&wv));
            }
        })
    });
    (
        Tensor::from_parts(Arc::new(y), x.typed_shape(), tape),
        batch,
    )
}

/// `xhat`, `x` seen as `[outer, c, inner]` normalized as `stats` say ([`Normalized`]), without a
/// scale or a shift; the batch's statistics, when they are used.
fn normalize<S: Shape, E: Element, X: Tracking<E>>(
    x: &Tensor<S, E, X>,
    c: usize,
    inner: usize,
    stats: &Stats<'_, E>,
) -> (Tensor<S, E, X>, BatchStats<E>) {
    let xv = x.data();
    let (norm, batch) = Normalized::new(xv, c, inner, stats);
    let y = Arc::clone(&norm.xhat);
    let tape = x.tape().record([x.input()], xv.len(), |[nx]| {
        Box::new(move |dy, grads| {
            if let Some(nx) = nx {
                norm.backward_x(grads.acc(nx), dy, None);
            }
        })
    });
    (Tensor::from_parts(y, x.typed_shape(), tape), batch)
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
/// use shaped::{Module, Rank2, Tensor};
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
    ///
    /// ```
    /// use shaped::nn::LayerNorm;
    /// use shaped::Tensor;
    /// let norm: LayerNorm<2, f64> = LayerNorm::new().with_eps(3.0);
    /// assert_eq!(norm.eps, 3.0);
    /// // [0, 2]: mean 1, variance 1: (x - 1) / sqrt(1 + 3)
    /// assert_eq!(norm.forward(Tensor::from([0.0, 2.0])).to_vec(), vec![-0.5, 0.5]);
    /// ```
    #[must_use]
    pub fn with_eps(mut self, eps: E) -> Self {
        self.eps = eps;
        self
    }

    /// The normalized input, scaled and shifted: `[.., D]` in, `[.., D]` out (see the type's docs).
    ///
    /// ```
    /// use shaped::nn::LayerNorm;
    /// use shaped::{Const, Tensor};
    /// let norm = LayerNorm::from_weights(Tensor::from([1.0, 10.0]), Tensor::from([0.0, 5.0])).with_eps(0.0);
    /// // rows of a run-time batch, each normalized on its own: [1, 3] and [7, 5] give xhat = [-1, 1] and [1, -1]
    /// let x = Tensor::<(usize, Const<2>), f64>::from_vec_with((2, Const), vec![1.0, 3.0, 7.0, 5.0])?;
    /// assert_eq!(norm.forward(x).to_vec(), vec![-1.0, 15.0, 1.0, -5.0]); // xhat * [1, 10] + [0, 5]
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    #[allow(clippy::needless_pass_by_value)] // by value, so that layers chain
    pub fn forward<S, X>(&self, x: Tensor<S, E, X>) -> Tensor<S, E, Merged<E, X, T>>
    where
        S: NonScalar<Last = Const<D>>,
        X: Tracking<E> + Merge<E, T>,
        Merged<E, X, T>: Merge<E, T, Output = Merged<E, X, T>>,
    {
        normalize_affine(&x, (&self.weight, &self.bias), 1, &Stats::Rows(self.eps)).0
    }
}

/// Layer normalization over the last axis without parameters, PyTorch's
/// `nn.LayerNorm(D, elementwise_affine=False)` (and `F.layer_norm(x, (D,))`): for each row `x` of
/// `D` values, `y = (x - mean(x)) / sqrt(var(x) + eps)`, the biased variance; `eps = 1e-5` with
/// [`new`](LayerNormNoAffine::new), or another with [`with_eps`](LayerNormNoAffine::with_eps).
///
/// Derivative, with `xhat = y` and `inv = 1 / sqrt(var + eps)`:
/// `dx = inv (dy - mean(dy) - xhat mean(dy xhat))`.
///
/// A type of its own rather than a setting of [`LayerNorm`]: with no `weight` and no `bias` it has
/// no parameters, so nothing in its `state_dict` ([`Module::params`] is empty, as PyTorch's) and
/// gradients [`NoParams`](crate::nn::NoParams), which a derived model and the optimizers take as
/// they take a [`Dropout`](crate::nn::Dropout)'s; and `norm.weight` cannot be reached on a layer
/// that has none.
/// Its tracking is its input's: it puts nothing of its own on the tape.
///
/// The input is any shape whose last axis is `D`, static or with run-time dimensions; another last
/// axis does not compile.
///
/// Edge values: as [`LayerNorm`]: a row that holds a NaN or an infinity is NaN; a constant row is 0.
///
/// ```
/// use shaped::nn::LayerNormNoAffine;
/// use shaped::{Module, Tape, Tensor};
///
/// let norm: LayerNormNoAffine<4, f64> = LayerNormNoAffine::with_eps(0.0);
/// assert!(norm.params().is_empty());
/// let x = Tensor::from([[2.0, 2.0, 6.0, 6.0]]);
/// assert_eq!(norm.forward(x.clone()).to_array(), [[-1.0, -1.0, 1.0, 1.0]]); // mean 4, variance 4
///
/// // d sum(y * [1, 0, 0, 0]) / dx = inv (dy - mean(dy) - xhat mean(dy xhat)), inv = 1 / 2:
/// // mean(dy) = 1/4, mean(dy xhat) = -1/4: [1/2 (1 - 1/4 - 1/4), 1/2 (-1/4 - 1/4), 1/2 (-1/4 + 1/4), 0]
/// let tape = Tape::new();
/// let xt = tape.watch(&x);
/// let v = Tensor::from([[1.0, 0.0, 0.0, 0.0]]);
/// let g = (norm.forward(xt.clone()) * &v).sum().backward().get(&xt);
/// assert_eq!(g.to_array(), [[0.25, -0.25, 0.0, 0.0]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNormNoAffine<const D: usize, E: Element = f32> {
    /// Added to the variance before its square root (`1e-5` by default, as PyTorch).
    pub eps: E,
}

impl<const D: usize, E: Element> LayerNormNoAffine<D, E> {
    /// A layer with `eps = 1e-5`.
    ///
    /// ```
    /// use shaped::nn::LayerNormNoAffine;
    /// assert_eq!(LayerNormNoAffine::<3>::new().eps, 1e-5);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_eps(E::from_f64_lossy(1e-5))
    }

    /// A layer with the given `eps` (PyTorch's `eps=...`).
    ///
    /// ```
    /// use shaped::nn::LayerNormNoAffine;
    /// use shaped::Tensor;
    /// let norm: LayerNormNoAffine<2, f64> = LayerNormNoAffine::with_eps(3.0);
    /// // [0, 2]: mean 1, variance 1: (x - 1) / sqrt(1 + 3)
    /// assert_eq!(norm.forward(Tensor::from([[0.0, 2.0]])).to_array(), [[-0.5, 0.5]]);
    /// ```
    #[must_use]
    pub fn with_eps(eps: E) -> Self {
        Self { eps }
    }

    /// The normalized input: `[.., D]` in, `[.., D]` out (see the type's docs).
    ///
    /// ```
    /// use shaped::nn::LayerNormNoAffine;
    /// use shaped::Tensor;
    /// let norm: LayerNormNoAffine<3, f64> = LayerNormNoAffine::with_eps(0.0);
    /// // each row: mean 2, biased variance 2/3
    /// let y = norm.forward(Tensor::from([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]));
    /// let k = 1.5_f64.sqrt(); // 1 / sqrt(2/3)
    /// assert!((y[[0, 0]] + k).abs() < 1e-12 && (y[[1, 0]] - k).abs() < 1e-12);
    /// assert_eq!(y[[0, 1]], 0.0);
    /// ```
    #[must_use]
    #[allow(clippy::needless_pass_by_value)] // by value, so that layers chain
    pub fn forward<S, X>(&self, x: Tensor<S, E, X>) -> Tensor<S, E, X>
    where
        S: NonScalar<Last = Const<D>>,
        X: Tracking<E>,
    {
        normalize(&x, D, 1, &Stats::Rows(self.eps)).0
    }
}

impl<const D: usize, E: Element> Default for LayerNormNoAffine<D, E> {
    fn default() -> Self {
        Self::new()
    }
}

no_params_module!([const D: usize, E: Element] LayerNormNoAffine<D, E>);

/// The running statistics of a [`BatchNorm1d`], shared by the layer and the copies that
/// [`Tape::watch`] makes of it, so that a training forward on the tape updates the model's.
#[derive(Debug)]
struct Running<E> {
    mean: Vec<E>,
    var: Vec<E>,
    batches: u64,
}

/// Batch normalization of `C` channels, PyTorch's `nn.BatchNorm1d(C)` on an input `[B, C]` or a
/// batch of sequences `[B, C, L]` (see [`BatchNormShape`]):
/// `y = (x - mean) / sqrt(var + eps) * weight + bias` per channel, the statistics taken over the
/// `n = B L` values of the channel (over the batch and the length; `L = 1` for `[B, C]`), with
/// - in training ([`Module::train`], the mode a layer starts in), the batch's mean and biased
///   variance, and the running statistics updated as PyTorch does (momentum `0.1`):
///   `running_mean = (1 - m) running_mean + m mean`, `running_var = (1 - m) running_var +
///   m var n / (n - 1)` (the unbiased variance), `num_batches_tracked += 1`;
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
/// Derivative in training, with `xhat` the normalized values, `inv = 1 / sqrt(var + eps)`,
/// `g = dy weight` and means over the `n` values of a channel: `dx = inv (g - mean(g) - xhat
/// mean(g xhat))`; in evaluation `dx = g inv`; `dweight = sum over the channel of dy xhat`,
/// `dbias = sum of dy`.
///
/// Edge values: a NaN or an infinity in a channel makes that channel NaN in training, and its
/// running statistics NaN, as in PyTorch.
///
/// # Panics
/// A training forward with fewer than 2 values per channel (`B L < 2`; PyTorch raises "Expected
/// more than 1 value per channel when training").
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
///
/// ```
/// use shaped::nn::{BatchNorm1d, BatchNorm1dGrads};
/// use shaped::{Module, Tensor};
/// let bn: BatchNorm1d<1, f64> = BatchNorm1d::new();
/// let x = Tensor::from([[1.0], [3.0]]);
/// // loss = sum(y * [1, 2]^T) with xhat = [-1, 1] (up to eps): d/dweight = sum(dy xhat) = 1, d/dbias = 3
/// let (_, g): (f64, BatchNorm1dGrads<1, f64>) =
///     bn.value_and_grad(|b| (b.forward(x.clone()) * &Tensor::from([[1.0], [2.0]])).sum());
/// assert!((g.weight.to_vec()[0] - 1.0).abs() < 1e-4);
/// assert_eq!(g.bias.to_vec(), vec![3.0]);
/// ```
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
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// let bn: BatchNorm1d<2, f64> = BatchNorm1d::new();
    /// assert_eq!((bn.weight.to_vec(), bn.bias.to_vec()), (vec![1.0; 2], vec![0.0; 2]));
    /// assert_eq!((bn.running_mean().to_vec(), bn.running_var().to_vec()), (vec![0.0; 2], vec![1.0; 2]));
    /// assert_eq!((bn.eps, bn.momentum, bn.is_training()), (1e-5, 0.1, true));
    /// ```
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
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::{Module, Tensor};
    /// let mut bn: BatchNorm1d<1, f64> =
    ///     BatchNorm1d::new().with_running_stats(&Tensor::from([2.0]), &Tensor::from([4.0]), 7);
    /// assert_eq!(bn.num_batches_tracked(), 7);
    /// bn.eval();
    /// // (x - 2) / sqrt(4 + eps)
    /// let y = bn.forward(Tensor::from([[6.0]]));
    /// assert!((y[[0, 0]] - 2.0).abs() < 1e-5);
    /// ```
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
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::Tensor;
    /// let bn: BatchNorm1d<1, f64> = BatchNorm1d::new();
    /// let copy = bn.clone();
    /// let _ = copy.forward(Tensor::from([[1.0], [3.0]])); // a training forward updates the copy's only
    /// assert_eq!(copy.num_batches_tracked(), 1);
    /// assert_eq!(bn.num_batches_tracked(), 0);
    /// ```
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
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::Tensor;
    /// let bn: BatchNorm1d<1, f64> = BatchNorm1d::new();
    /// let _ = bn.forward(Tensor::from([[4.0], [6.0]])); // batch mean 5
    /// assert_eq!(bn.running_mean().to_vec(), vec![0.5]); // 0.9 * 0 + 0.1 * 5
    /// ```
    #[must_use]
    pub fn running_mean(&self) -> Tensor<Rank1<C>, E> {
        Tensor::from_data(self.stats().mean.clone())
    }

    /// The running (unbiased) variance `[C]`.
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::Tensor;
    /// let bn: BatchNorm1d<1, f64> = BatchNorm1d::new();
    /// let _ = bn.forward(Tensor::from([[4.0], [8.0]])); // unbiased variance ((-2)^2 + 2^2) / 1 = 8
    /// assert_eq!(bn.running_var().to_vec(), vec![0.9 + 0.8]); // 0.9 * 1 + 0.1 * 8
    /// ```
    #[must_use]
    pub fn running_var(&self) -> Tensor<Rank1<C>, E> {
        Tensor::from_data(self.stats().var.clone())
    }

    /// The number of training batches seen.
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::{Module, Tensor};
    /// let mut bn: BatchNorm1d<1, f64> = BatchNorm1d::new();
    /// let x = Tensor::from([[1.0], [2.0]]);
    /// let _ = bn.forward(x.clone());
    /// let _ = bn.forward(x.clone());
    /// bn.eval();
    /// let _ = bn.forward(x); // evaluation does not count
    /// assert_eq!(bn.num_batches_tracked(), 2);
    /// ```
    #[must_use]
    pub fn num_batches_tracked(&self) -> u64 {
        self.stats().batches
    }

    /// Whether the layer is in training mode (see [`Module::train`]).
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::Module;
    /// let mut bn: BatchNorm1d<3> = BatchNorm1d::new();
    /// assert!(bn.is_training());
    /// bn.eval();
    /// assert!(!bn.is_training());
    /// ```
    #[must_use]
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// The normalized batch `[B, C]` or `[B, C, L]` (static or run-time `B` and `L`), scaled and
    /// shifted per channel; in training the running statistics are updated (see the type's docs).
    ///
    /// # Panics
    /// In training, when a channel has fewer than 2 values (`B L < 2`); the message names the
    /// input's size (`batch_norm: expected more than 1 value per channel when training, got input
    /// size [1, 3]`).
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::{Const, Tensor};
    ///
    /// // A batch of 1 sequence of 2 channels, 4 steps long: each channel over its 4 values.
    /// let bn: BatchNorm1d<2, f64> = BatchNorm1d::new();
    /// let x = Tensor::from_vec_with((1, Const::<2>, 4), vec![1.0, 1.0, 3.0, 3.0, 5.0, 5.0, 5.0, 5.0])?;
    /// let y = bn.forward(x);
    /// let k = 1.0 / (1.0_f64 + 1e-5).sqrt(); // channel 0: mean 2, variance 1
    /// assert_eq!(y.to_vec(), vec![-k, -k, k, k, 0.0, 0.0, 0.0, 0.0]);
    /// // running_var = 0.9 + 0.1 * 4 / 3 (the unbiased variance over the 4 values)
    /// assert_eq!(bn.running_var().to_vec(), vec![0.9 + 0.1 * (4.0 / 3.0), 0.9]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    #[track_caller]
    #[allow(clippy::needless_pass_by_value)] // by value, so that layers chain
    pub fn forward<S, X>(&self, x: Tensor<S, E, X>) -> Tensor<S, E, Merged<E, X, T>>
    where
        S: BatchNormShape<C>,
        X: Tracking<E> + Merge<E, T>,
        Merged<E, X, T>: Merge<E, T, Output = Merged<E, X, T>>,
    {
        let inner = x.typed_shape().length();
        let affine = (&self.weight, &self.bias);
        if !self.training {
            let (mean, inv): (Vec<E>, Vec<E>) = {
                let r = self.stats();
                (
                    r.mean.clone(),
                    r.var.iter().map(|&v| inv_std(v, self.eps)).collect(),
                )
            };
            return normalize_affine(&x, affine, inner, &Stats::Fixed(&mean, &inv)).0;
        }
        let count = x.numel() / C;
        assert!(
            count > 1,
            "batch_norm: expected more than 1 value per channel when training, got input size {:?}",
            x.shape().as_ref()
        );
        let (y, batch) = normalize_affine(&x, affine, inner, &Stats::Channels(self.eps));
        let (mean, var) = batch.expect("the batch's statistics");
        let m = self.momentum;
        let keep = E::one() - m;
        let unbias = E::from_f64_lossy(count as f64) / E::from_f64_lossy((count - 1) as f64);
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

/// The inputs of a [`BatchNorm1d`] of `C` channels, PyTorch's: `[B, C]` or `[B, C, L]`, the batch
/// `B` and the length `L` static or run-time dimensions, the channels `C` static.
///
/// ```
/// use shaped::nn::BatchNormShape;
/// use shaped::{Const, Rank2, Rank3};
/// fn channels<S: BatchNormShape<3>>() {}
/// channels::<Rank2<8, 3>>();
/// channels::<Rank3<8, 3, 16>>();
/// channels::<(usize, Const<3>)>();
/// channels::<(usize, Const<3>, usize)>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`BatchNorm1d<{C}>` takes `[B, {C}]` or `[B, {C}, L]`, got `{Self}`",
    label = "not a batch of {C} channels",
    note = "the channels are axis 1, as in PyTorch's `nn.BatchNorm1d`"
)]
pub trait BatchNormShape<const C: usize>: Shape {
    /// The length `L` of each channel's run of values (1 for `[B, C]`).
    #[doc(hidden)]
    fn length(&self) -> usize;
}

#[diagnostic::do_not_recommend]
impl<const B: usize, const C: usize> BatchNormShape<C> for Rank2<B, C> {
    fn length(&self) -> usize {
        1
    }
}

#[diagnostic::do_not_recommend]
impl<const B: usize, const C: usize, const L: usize> BatchNormShape<C> for Rank3<B, C, L> {
    fn length(&self) -> usize {
        L
    }
}

#[diagnostic::do_not_recommend]
impl<B: Dim, const C: usize> BatchNormShape<C> for (B, Const<C>) {
    fn length(&self) -> usize {
        1
    }
}

#[diagnostic::do_not_recommend]
impl<B: Dim, const C: usize, L: Dim> BatchNormShape<C> for (B, Const<C>, L) {
    fn length(&self) -> usize {
        self.2.size()
    }
}

/// The `Module` methods of [`BatchNorm1d`] and [`BatchNorm1dGrads`] over their parameters
/// `weight` and `bias` (`true` for the layer: its gradients are read as trained).
macro_rules! affine_module_methods {
    ($model:literal) => {
        fn visit(&self, path: &mut String, f: &mut Visit<'_, E>) {
            for (name, t) in [("weight", &self.weight), ("bias", &self.bias)] {
                let len = push_segment(path, name);
                t.visit(path, f);
                path.truncate(len);
            }
        }

        fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, E>) {
            for (name, t) in [("weight", &mut self.weight), ("bias", &mut self.bias)] {
                let len = push_segment(path, name);
                t.visit_mut(path, f);
                path.truncate(len);
            }
        }

        fn zip_mut(&mut self, other: &BatchNorm1dGrads<C, E>, f: &mut ZipMut<'_, E>) {
            self.weight.zip_mut(&other.weight, f);
            self.bias.zip_mut(&other.bias, f);
        }

        fn read_grads(&self, grads: &Grads<E>, trained: bool) -> BatchNorm1dGrads<C, E> {
            let trained = trained && $model;
            BatchNorm1dGrads {
                weight: self.weight.read_grads(grads, trained),
                bias: self.bias.read_grads(grads, trained),
            }
        }

        fn zeros_like(&self) -> BatchNorm1dGrads<C, E> {
            BatchNorm1dGrads {
                weight: Tensor::zeros(),
                bias: Tensor::zeros(),
            }
        }
    };
}

impl<const C: usize, E: Element> Module for BatchNorm1d<C, E> {
    type Elem = E;
    type Grads = BatchNorm1dGrads<C, E>;
    type HoldsParams = crate::module::Yes;

    affine_module_methods!(true);

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
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::{Tape, Tensor};
    /// let bn: BatchNorm1d<1, f64> = BatchNorm1d::new();
    /// let tape = Tape::new();
    /// let on_tape = tape.watch(&bn);
    /// let _ = on_tape.forward(Tensor::from([[0.0], [2.0]])); // batch mean 1
    /// assert_eq!(bn.running_mean().to_vec(), vec![0.1]); // the stored layer's statistics moved
    /// ```
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
    type HoldsParams = crate::module::Yes;

    affine_module_methods!(false);

    fn unused_into(&self, _: &Grads<E>, _: bool, _: &mut String, _: &mut Vec<String>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck;
    use crate::ops::testing::random;

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
    fn layer_norm_without_affine_gradients_match_finite_differences() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(31);
        let v: Tensor<Rank3<2, 3, 4>, f64> = random(32);
        let norm: LayerNormNoAffine<4, f64> = LayerNormNoAffine::new();
        // x used twice: normalized, and multiplied with the output.
        gradcheck(|x| (norm.forward(x.clone()) * &v * x).sum(), &x).unwrap();
        // The same values as the affine layer with weight 1 and bias 0, on a run-time batch.
        let affine: LayerNorm<4, f64> = LayerNorm::new();
        let rows: Tensor<(usize, Const<4>), f64> =
            Tensor::from_vec_with((6, Const), x.to_vec()).unwrap();
        assert_eq!(norm.forward(rows).as_slice(), affine.forward(x).as_slice());
    }

    #[derive(Module)]
    struct Block<T: Tracking<f64> = NoTape> {
        fc: crate::nn::Linear<4, 4, f64, T>,
        norm: LayerNormNoAffine<4, f64>,
    }

    #[test]
    fn layer_norm_without_affine_has_no_parameters_in_a_trained_model() {
        use crate::optim::{Adam, Optimizer, Sgd};
        let mut model = Block {
            fc: crate::nn::Linear::from_weights(random(41), Some(random(42))),
            norm: LayerNormNoAffine::new(),
        };
        let names: Vec<String> = model.params().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["fc.weight", "fc.bias"]);
        let x: Tensor<Rank2<3, 4>, f64> = random(43);
        let v: Tensor<Rank2<3, 4>, f64> = random(44);
        let (loss, g): (_, BlockGrads) =
            model.value_and_grad(|m| (m.norm.forward(m.fc.forward(x.clone())) * &v).sum());
        let _: crate::nn::NoParams<f64> = g.norm;
        let before = model.fc.weight.to_vec();
        Sgd::new(&model, 0.1).step(&mut model, &g);
        let after_sgd = model.fc.weight.to_vec();
        assert_ne!(after_sgd, before);
        Adam::new(&model, 0.1).step(&mut model, &g);
        assert_ne!(model.fc.weight.to_vec(), after_sgd);
        // The state_dict round trip holds the linear layer only.
        let mut other = Block {
            fc: crate::nn::Linear::from_weights(Tensor::zeros(), Some(Tensor::zeros())),
            norm: LayerNormNoAffine::new(),
        };
        other.load_safetensors(&model.to_safetensors()).unwrap();
        assert_eq!(other.fc.weight.to_vec(), model.fc.weight.to_vec());
        assert!(loss.is_finite());
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
    fn batch_norm_of_sequences_gradient_literal() {
        // One sequence [B, C, L] = [1, 1, 4], x = [0, 0, 2, 2] (mean 1, biased variance 1, eps 0):
        // xhat = [-1, -1, 1, 1]. f = sum(y * v), v = [1, 0, 0, 0], w = 2: g = v w = [2, 0, 0, 0],
        // mean(g) = 0.5, mean(g xhat) = -0.5; dx = g - 0.5 + 0.5 xhat = [1, -1, 0, 0].
        // dw = sum v xhat = -1, db = sum v = 1; running_var = 0.9 + 0.1 * 4 / 3 (unbiased).
        let mut bn = BatchNorm1d::from_weights(Tensor::from([2.0]), Tensor::from([0.0]));
        bn.eps = 0.0;
        let x = Tensor::from([[[0.0, 0.0, 2.0, 2.0]]]);
        let v = Tensor::from([[[1.0, 0.0, 0.0, 0.0]]]);
        let tape = Tape::new();
        let (bt, xt) = (tape.watch(&bn), tape.watch(&x));
        let y = bt.forward(xt.clone());
        assert_eq!(y.to_array(), [[[-2.0, -2.0, 2.0, 2.0]]]);
        let grads = (y * &v).sum().backward();
        assert_eq!(grads.get(&xt).to_array(), [[[1.0, -1.0, 0.0, 0.0]]]);
        let g = bn.grads(&grads);
        assert_eq!((g.weight.to_array(), g.bias.to_array()), ([-1.0], [1.0]));
        assert_eq!(bn.running_mean().to_array(), [0.1]);
        assert_eq!(bn.running_var().to_array(), [0.9 + 0.1 * (4.0 / 3.0)]);
    }

    #[test]
    fn batch_norm_of_sequences_matches_finite_differences_on_static_and_run_time_shapes() {
        let x: Tensor<Rank3<3, 2, 4>, f64> = random(21);
        let v: Tensor<Rank3<3, 2, 4>, f64> = random(22);
        let (w, b): (Tensor<Rank1<2>, f64>, Tensor<Rank1<2>, f64>) = (random(23), random(24));
        let (mean, var) = (random(25), random::<Rank1<2>>(26).map(f64::abs));
        for training in [true, false] {
            let mut bn =
                BatchNorm1d::from_weights(w.clone(), b.clone()).with_running_stats(&mean, &var, 0);
            bn.set_training(training);
            let layer = |w: &Tensor<Rank1<2>, f64, Tape<f64>>, b: &Tensor<_, _, _>| BatchNorm1d {
                weight: w.clone(),
                bias: b.clone(),
                eps: bn.eps,
                momentum: bn.momentum,
                running: Arc::new(Mutex::new(Running {
                    mean: mean.to_vec(),
                    var: var.to_vec(),
                    batches: 0,
                })),
                training,
            };
            // x used twice: normalized, and multiplied with the output.
            gradcheck(
                |(x, w, b)| (layer(&w, &b).forward(x.clone()) * &v * x).sum(),
                (&x, &w, &b),
            )
            .unwrap();
            // Run-time batch and length: the same values and statistics.
            let (first, second) = (bn.clone(), bn.clone());
            let fixed = first.forward(x.clone());
            let rt = Tensor::from_vec_with((3_usize, Const::<2>, 4_usize), x.to_vec()).unwrap();
            let dynamic = second.forward(rt);
            assert_eq!(dynamic.shape(), [3, 2, 4]);
            assert_eq!(fixed.as_slice(), dynamic.as_slice());
            assert_eq!(first.running_var(), second.running_var());
            assert_eq!(first.num_batches_tracked(), u64::from(training));
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
        expected = "batch_norm: expected more than 1 value per channel when training, got input size [1, 2]"
    )]
    fn batch_norm_of_one_row_in_training_panics() {
        let bn: BatchNorm1d<2> = BatchNorm1d::new();
        let _ = bn.forward(Tensor::from([[1.0, 2.0]]));
    }
}
