//! Learning-rate schedules with the values of `torch.optim.lr_scheduler`: [`StepLr`],
//! [`MultiStepLr`], [`ExponentialLr`], [`CosineAnnealingLr`], [`LinearLr`] (a warm-up),
//! [`OneCycleLr`], one schedule [`then`](Schedule::then) another ([`SequentialLR`]'s milestones),
//! and any closure `Fn(usize) -> f64` (`LambdaLR`).
//!
//! A schedule is a function of the step: [`lr(step)`](Schedule::lr) is the learning rate of step
//! `step` (0 for the first), the value PyTorch's scheduler gives after `step` calls of
//! `scheduler.step()`. [`apply`](Schedule::apply) sets it on an optimizer for the step it is
//! about to take, which the optimizer counts ([`Optimizer::step_count`]) and saves with its state:
//! a schedule needs no state of its own, and goes on where it was after a checkpoint is loaded.
//!
//! ```
//! use shaped::optim::schedule::{CosineAnnealingLr, LinearLr, Schedule};
//! use shaped::optim::{Optimizer, Sgd};
//! use shaped::Tensor;
//!
//! // Five steps of linear warm-up from 0.1 * lr, then a cosine from lr = 0.5 down to 0 over 10.
//! let schedule = LinearLr::new(0.5).start_factor(0.1).total_iters(5)
//!     .then(CosineAnnealingLr::new(0.5, 10), 5);
//! assert_eq!(schedule.lr(0), 0.05);
//! assert_eq!(schedule.lr(5), 0.5);
//! assert_eq!(schedule.lr(15), 0.0);
//!
//! let mut p = Tensor::from([1.0]);
//! let mut opt = Sgd::new(&p, 0.5);
//! for _ in 0..15 {
//!     schedule.apply(&mut opt); // the rate of step `opt.step_count()`
//!     opt.step(&mut p, &Tensor::from([1.0]));
//! }
//! let total: f64 = (0..15).map(|s| schedule.lr(s)).sum();
//! assert!((p.to_vec()[0] - (1.0 - total)).abs() < 1e-12);
//! ```
//!
//! PyTorch computes most of these recursively when its scheduler is stepped, each value from the
//! last (`lr * gamma`), and has the closed forms below for `scheduler.step(epoch)`. The crate
//! computes the closed forms with PyTorch's operations in PyTorch's order, and gives PyTorch's
//! closed-form values to the bit; the stepped values drift from them by rounding, within 1e-14
//! relative over the thousand steps recorded. [`OneCycleLr`] is computed from the step in PyTorch
//! too, and agrees to the bit.
//!
//! [`SequentialLR`]: Then
//! [`Optimizer::step_count`]: super::Optimizer::step_count

use core::f64::consts::PI;

use super::Optimizer;
use crate::{Element, Module};

/// A learning rate for every step.
///
/// Implement [`lr`](Schedule::lr) for a schedule of your own, or pass a closure: every
/// `Fn(usize) -> f64` is a schedule (PyTorch's `LambdaLR` with `lr * lambda(step)`).
///
/// ```
/// use shaped::optim::schedule::Schedule;
/// let inverse = |step: usize| 0.1 / (1.0 + step as f64);
/// assert_eq!(inverse.lr(4), 0.02);
/// ```
pub trait Schedule {
    /// The learning rate of step `step`, 0 for the first.
    ///
    /// ```
    /// use shaped::optim::schedule::{ExponentialLr, Schedule};
    /// let s = ExponentialLr::new(0.1, 0.5); // 0.1 * 0.5^step
    /// assert_eq!((s.lr(0), s.lr(1), s.lr(2)), (0.1, 0.05, 0.025));
    /// ```
    fn lr(&self, step: usize) -> f64;

    /// The momentum of step `step`, for a schedule that cycles it ([`OneCycleLr`]); `None` (leave
    /// it) by default.
    ///
    /// ```
    /// use shaped::optim::schedule::{ExponentialLr, Schedule};
    /// assert_eq!(ExponentialLr::new(0.1, 0.9).momentum(3), None);
    /// ```
    fn momentum(&self, step: usize) -> Option<f64> {
        let _ = step;
        None
    }

    /// Sets the learning rate (and the momentum, if the schedule has one) of `opt` for the step it
    /// is about to take, its [`step_count`](Optimizer::step_count): call it before each
    /// `opt.step(..)`, as PyTorch calls `scheduler.step()` after each `optimizer.step()`.
    ///
    /// # Panics
    /// As [`Optimizer::set_lr`] and [`Optimizer::set_momentum`], and as the schedule's
    /// [`lr`](Schedule::lr).
    ///
    /// ```
    /// use shaped::optim::schedule::{Schedule, StepLr};
    /// use shaped::optim::{Optimizer, Sgd};
    /// use shaped::Tensor;
    /// let schedule = StepLr::new(1.0, 2).gamma(0.5);
    /// let mut p = Tensor::from([0.0]);
    /// let mut opt = Sgd::new(&p, 1.0);
    /// for _ in 0..5 {
    ///     schedule.apply(&mut opt);
    ///     opt.step(&mut p, &Tensor::from([-1.0]));
    /// }
    /// assert_eq!(p.to_vec(), vec![1.0 + 1.0 + 0.5 + 0.5 + 0.25]);
    /// ```
    fn apply<M: Module, O: Optimizer<M> + ?Sized>(&self, opt: &mut O)
    where
        Self: Sized,
    {
        let step = opt.step_count();
        self.apply_at(opt, step);
    }

    /// Sets the learning rate (and the momentum, if the schedule has one) of step `step` on `opt`:
    /// for a schedule that counts epochs rather than the optimizer's steps.
    ///
    /// # Panics
    /// As [`apply`](Schedule::apply).
    ///
    /// ```
    /// use shaped::optim::schedule::{ExponentialLr, Schedule};
    /// use shaped::optim::{Adam, Optimizer};
    /// use shaped::{Rank1, Tensor};
    /// let mut opt = Adam::new(&Tensor::<Rank1<2>>::zeros(), 0.1);
    /// for epoch in 0..3 {
    ///     ExponentialLr::new(0.1, 0.5).apply_at(&mut opt, epoch);
    ///     // ... the epoch's steps
    /// }
    /// assert_eq!(opt.lr(), 0.025);
    /// ```
    fn apply_at<M: Module, O: Optimizer<M> + ?Sized>(&self, opt: &mut O, step: usize)
    where
        Self: Sized,
    {
        opt.set_lr(M::Elem::from_f64_lossy(self.lr(step)));
        if let Some(m) = self.momentum(step) {
            opt.set_momentum(M::Elem::from_f64_lossy(m));
        }
    }

    /// This schedule for the steps before `milestone`, then `next` from its step 0 (PyTorch's
    /// `SequentialLR` with `milestones=[milestone]`; chain `then` for more).
    ///
    /// ```
    /// use shaped::optim::schedule::{ExponentialLr, LinearLr, Schedule, StepLr};
    /// // SequentialLR([LinearLR, ExponentialLR, StepLR], milestones=[2, 4])
    /// let s = LinearLr::new(1.0).start_factor(0.5).total_iters(2)
    ///     .then(ExponentialLr::new(1.0, 0.5), 2)
    ///     .then(StepLr::new(0.1, 10), 4);
    /// let lrs: Vec<f64> = (0..6).map(|t| s.lr(t)).collect();
    /// assert_eq!(lrs, [0.5, 0.75, 1.0, 0.5, 0.1, 0.1]);
    /// ```
    fn then<B: Schedule>(self, next: B, milestone: usize) -> Then<Self, B>
    where
        Self: Sized,
    {
        Then {
            first: self,
            next,
            milestone,
        }
    }
}

impl<F: Fn(usize) -> f64> Schedule for F {
    fn lr(&self, step: usize) -> f64 {
        self(step)
    }
}

/// One schedule, then another from a milestone on: see [`Schedule::then`].
///
/// ```
/// use shaped::optim::schedule::{ExponentialLr, Schedule, Then};
/// let s: Then<_, ExponentialLr> = (|_| 1.0).then(ExponentialLr::new(0.5, 0.5), 3);
/// assert_eq!([s.lr(2), s.lr(3), s.lr(4)], [1.0, 0.5, 0.25]);
/// ```
#[derive(Clone, Debug)]
pub struct Then<A, B> {
    first: A,
    next: B,
    milestone: usize,
}

impl<A: Schedule, B: Schedule> Schedule for Then<A, B> {
    fn lr(&self, step: usize) -> f64 {
        if step < self.milestone {
            self.first.lr(step)
        } else {
            self.next.lr(step - self.milestone)
        }
    }

    fn momentum(&self, step: usize) -> Option<f64> {
        if step < self.milestone {
            self.first.momentum(step)
        } else {
            self.next.momentum(step - self.milestone)
        }
    }
}

/// `base_lr * gamma^k`, `k` = the whole number of `step_size`s elapsed: `StepLR(step_size,
/// gamma=0.1)`.
///
/// ```
/// use shaped::optim::schedule::{Schedule, StepLr};
/// let s = StepLr::new(0.1, 30).gamma(0.5);
/// assert_eq!([s.lr(0), s.lr(29), s.lr(30), s.lr(60)], [0.1, 0.1, 0.05, 0.025]);
/// ```
#[derive(Clone, Debug)]
pub struct StepLr {
    base_lr: f64,
    step_size: usize,
    gamma: f64,
}

impl StepLr {
    /// Starts at `base_lr` and multiplies it by 0.1 every `step_size` steps.
    ///
    /// # Panics
    /// If `step_size` is 0.
    ///
    /// ```
    /// use shaped::optim::schedule::{Schedule, StepLr};
    /// let s = StepLr::new(0.5, 10);
    /// assert_eq!([s.lr(9), s.lr(10)], [0.5, 0.5 * 0.1]);
    /// ```
    #[must_use]
    pub fn new(base_lr: f64, step_size: usize) -> Self {
        assert!(step_size > 0, "StepLr: the step size must be positive");
        Self {
            base_lr,
            step_size,
            gamma: 0.1,
        }
    }

    /// The factor applied every `step_size` steps (default 0.1).
    ///
    /// ```
    /// use shaped::optim::schedule::{Schedule, StepLr};
    /// assert_eq!(StepLr::new(1.0, 1).gamma(0.5).lr(2), 0.25);
    /// ```
    #[must_use]
    pub fn gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }
}

impl Schedule for StepLr {
    fn lr(&self, step: usize) -> f64 {
        self.base_lr * self.gamma.powf((step / self.step_size) as f64)
    }
}

/// `base_lr * gamma^k`, `k` = the milestones passed (a milestone listed twice counts twice):
/// `MultiStepLR(milestones, gamma=0.1)`.
///
/// ```
/// use shaped::optim::schedule::{MultiStepLr, Schedule};
/// let s = MultiStepLr::new(1.0, [10, 20]).gamma(0.5);
/// assert_eq!([s.lr(9), s.lr(10), s.lr(19), s.lr(20)], [1.0, 0.5, 0.5, 0.25]);
/// ```
#[derive(Clone, Debug)]
pub struct MultiStepLr {
    base_lr: f64,
    milestones: Vec<usize>,
    gamma: f64,
}

impl MultiStepLr {
    /// Starts at `base_lr` and multiplies it by 0.1 at each milestone (in any order).
    ///
    /// ```
    /// use shaped::optim::schedule::{MultiStepLr, Schedule};
    /// let s = MultiStepLr::new(1.0, [20, 5, 20]);
    /// assert_eq!([s.lr(4), s.lr(5), s.lr(20)], [1.0, 0.1, 0.1f64.powi(3)]);
    /// ```
    #[must_use]
    pub fn new(base_lr: f64, milestones: impl IntoIterator<Item = usize>) -> Self {
        let mut milestones: Vec<usize> = milestones.into_iter().collect();
        milestones.sort_unstable();
        Self {
            base_lr,
            milestones,
            gamma: 0.1,
        }
    }

    /// The factor applied at each milestone (default 0.1).
    ///
    /// ```
    /// use shaped::optim::schedule::{MultiStepLr, Schedule};
    /// assert_eq!(MultiStepLr::new(1.0, [1]).gamma(0.5).lr(1), 0.5);
    /// ```
    #[must_use]
    pub fn gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }
}

impl Schedule for MultiStepLr {
    fn lr(&self, step: usize) -> f64 {
        let passed = self.milestones.partition_point(|&m| m <= step);
        self.base_lr * self.gamma.powf(passed as f64)
    }
}

/// `base_lr * gamma^step`: `ExponentialLR(gamma)`.
///
/// ```
/// use shaped::optim::schedule::{ExponentialLr, Schedule};
/// let s = ExponentialLr::new(0.1, 0.5);
/// assert_eq!([s.lr(0), s.lr(1), s.lr(3)], [0.1, 0.05, 0.0125]);
/// ```
#[derive(Clone, Debug)]
pub struct ExponentialLr {
    base_lr: f64,
    gamma: f64,
}

impl ExponentialLr {
    /// Starts at `base_lr` and multiplies it by `gamma` at every step.
    ///
    /// ```
    /// use shaped::optim::schedule::{ExponentialLr, Schedule};
    /// assert_eq!(ExponentialLr::new(1.0, 0.5).lr(2), 0.25);
    /// ```
    #[must_use]
    pub fn new(base_lr: f64, gamma: f64) -> Self {
        Self { base_lr, gamma }
    }
}

impl Schedule for ExponentialLr {
    fn lr(&self, step: usize) -> f64 {
        self.base_lr * self.gamma.powf(step as f64)
    }
}

/// `eta_min + (base_lr - eta_min) (1 + cos(pi step / t_max)) / 2`: `CosineAnnealingLR(T_max,
/// eta_min=0)`. From `base_lr` at step 0 down to `eta_min` at `t_max`; past `t_max` it rises again
/// along the same cosine, as in PyTorch.
///
/// ```
/// use shaped::optim::schedule::{CosineAnnealingLr, Schedule};
/// let s = CosineAnnealingLr::new(1.0, 10).eta_min(0.5);
/// assert_eq!([s.lr(0), s.lr(5), s.lr(10), s.lr(20)], [1.0, 0.75, 0.5, 1.0]);
/// ```
#[derive(Clone, Debug)]
pub struct CosineAnnealingLr {
    base_lr: f64,
    t_max: usize,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// From `base_lr` down to 0 over `t_max` steps.
    ///
    /// # Panics
    /// If `t_max` is 0.
    ///
    /// ```
    /// use shaped::optim::schedule::{CosineAnnealingLr, Schedule};
    /// let s = CosineAnnealingLr::new(0.1, 100);
    /// assert_eq!([s.lr(0), s.lr(100)], [0.1, 0.0]);
    /// ```
    #[must_use]
    pub fn new(base_lr: f64, t_max: usize) -> Self {
        assert!(t_max > 0, "CosineAnnealingLr: t_max must be positive");
        Self {
            base_lr,
            t_max,
            eta_min: 0.0,
        }
    }

    /// The lowest learning rate, reached at `t_max` (default 0).
    ///
    /// ```
    /// use shaped::optim::schedule::{CosineAnnealingLr, Schedule};
    /// assert_eq!(CosineAnnealingLr::new(0.1, 100).eta_min(0.01).lr(100), 0.01);
    /// ```
    #[must_use]
    pub fn eta_min(mut self, eta_min: f64) -> Self {
        self.eta_min = eta_min;
        self
    }
}

impl Schedule for CosineAnnealingLr {
    fn lr(&self, step: usize) -> f64 {
        let cos = (PI * step as f64 / self.t_max as f64).cos();
        self.eta_min + (self.base_lr - self.eta_min) * (1.0 + cos) / 2.0
    }
}

/// `base_lr` times a factor going linearly from `start_factor` to `end_factor` over `total_iters`
/// steps, then staying there: `LinearLR(start_factor=1/3, end_factor=1, total_iters=5)`, the usual
/// warm-up.
///
/// ```
/// use shaped::optim::schedule::{LinearLr, Schedule};
/// let s = LinearLr::new(1.0).start_factor(0.25).total_iters(3);
/// assert_eq!([s.lr(0), s.lr(1), s.lr(2), s.lr(3), s.lr(9)], [0.25, 0.5, 0.75, 1.0, 1.0]);
/// ```
#[derive(Clone, Debug)]
pub struct LinearLr {
    base_lr: f64,
    start_factor: f64,
    end_factor: f64,
    total_iters: usize,
}

impl LinearLr {
    /// From `base_lr / 3` up to `base_lr` over 5 steps (PyTorch's defaults).
    ///
    /// ```
    /// use shaped::optim::schedule::{LinearLr, Schedule};
    /// let s = LinearLr::new(0.3);
    /// assert_eq!([s.lr(0), s.lr(5)], [0.3 / 3.0, 0.3]);
    /// ```
    #[must_use]
    pub fn new(base_lr: f64) -> Self {
        Self {
            base_lr,
            start_factor: 1.0 / 3.0,
            end_factor: 1.0,
            total_iters: 5,
        }
    }

    /// The factor at step 0 (default 1/3).
    ///
    /// # Panics
    /// Unless `start_factor` is in `(0, 1]`, as in PyTorch.
    ///
    /// ```
    /// use shaped::optim::schedule::{LinearLr, Schedule};
    /// assert_eq!(LinearLr::new(1.0).start_factor(0.5).lr(0), 0.5);
    /// ```
    #[must_use]
    pub fn start_factor(mut self, start_factor: f64) -> Self {
        assert!(
            start_factor > 0.0 && start_factor <= 1.0,
            "LinearLr: the start factor must be in (0, 1], not {start_factor}"
        );
        self.start_factor = start_factor;
        self
    }

    /// The factor from step `total_iters` on (default 1).
    ///
    /// # Panics
    /// Unless `end_factor` is in `[0, 1]`, as in PyTorch.
    ///
    /// ```
    /// use shaped::optim::schedule::{LinearLr, Schedule};
    /// // A linear decay from the full rate to a quarter of it.
    /// let s = LinearLr::new(1.0).start_factor(1.0).end_factor(0.25).total_iters(3);
    /// assert_eq!([s.lr(0), s.lr(1), s.lr(3), s.lr(7)], [1.0, 0.75, 0.25, 0.25]);
    /// ```
    #[must_use]
    pub fn end_factor(mut self, end_factor: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&end_factor),
            "LinearLr: the end factor must be in [0, 1], not {end_factor}"
        );
        self.end_factor = end_factor;
        self
    }

    /// The steps from the start factor to the end factor (default 5).
    ///
    /// # Panics
    /// If `total_iters` is 0.
    ///
    /// ```
    /// use shaped::optim::schedule::{LinearLr, Schedule};
    /// let s = LinearLr::new(1.0).start_factor(0.5).total_iters(2);
    /// assert_eq!([s.lr(1), s.lr(2)], [0.75, 1.0]);
    /// ```
    #[must_use]
    pub fn total_iters(mut self, total_iters: usize) -> Self {
        assert!(total_iters > 0, "LinearLr: total_iters must be positive");
        self.total_iters = total_iters;
        self
    }
}

impl Schedule for LinearLr {
    fn lr(&self, step: usize) -> f64 {
        let done = step.min(self.total_iters) as f64;
        self.base_lr
            * (self.start_factor
                + (self.end_factor - self.start_factor) * done / self.total_iters as f64)
    }
}

/// The one-cycle policy: up from `max_lr / div_factor` to `max_lr` over the first `pct_start` of
/// the steps, then down to `max_lr / div_factor / final_div_factor` at the last step; the momentum
/// goes the other way, from `max_momentum` to `base_momentum` and back. `OneCycleLR(max_lr,
/// total_steps, pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
/// max_momentum=0.95, div_factor=25, final_div_factor=1e4, three_phase=False)`, with the same
/// values to the bit.
///
/// [`apply`](Schedule::apply) sets the momentum too: [`Sgd`](super::Sgd)'s and
/// [`RMSprop`](super::RMSprop)'s `momentum`, [`Adam`](super::Adam)'s and
/// [`AdamW`](super::AdamW)'s `beta1` (PyTorch's choice); with [`Adagrad`](super::Adagrad), which
/// has no momentum, build it with `cycle_momentum(false)`. As PyTorch, this sets a momentum on an
/// [`Sgd`](super::Sgd) made without one.
///
/// ```
/// use shaped::optim::schedule::{OneCycleLr, Schedule};
/// let s = OneCycleLr::new(1.0, 100);
/// assert!((s.lr(0) - 1.0 / 25.0).abs() < 1e-16);
/// assert_eq!(s.lr(29), 1.0); // the end of the first 30 %
/// assert_eq!(s.lr(99), 1.0 / 25.0 / 1e4);
/// assert_eq!((s.momentum(0), s.momentum(29)), (Some(0.95), Some(0.85)));
/// ```
#[derive(Clone, Debug)]
pub struct OneCycleLr {
    max_lr: f64,
    total_steps: usize,
    pct_start: f64,
    linear: bool,
    cycle_momentum: bool,
    base_momentum: f64,
    max_momentum: f64,
    div_factor: f64,
    final_div_factor: f64,
    three_phase: bool,
}

impl OneCycleLr {
    /// A cycle of `total_steps` steps peaking at `max_lr`, with PyTorch's defaults.
    ///
    /// # Panics
    /// If `total_steps` is 0.
    ///
    /// ```
    /// use shaped::optim::schedule::{OneCycleLr, Schedule};
    /// let s = OneCycleLr::new(0.1, 10);
    /// assert_eq!(s.lr(2), 0.1); // the peak, at step 0.3 * 10 - 1
    /// ```
    #[must_use]
    pub fn new(max_lr: f64, total_steps: usize) -> Self {
        assert!(
            total_steps > 0,
            "OneCycleLr: the total number of steps must be positive"
        );
        Self {
            max_lr,
            total_steps,
            pct_start: 0.3,
            linear: false,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }

    /// The fraction of the steps spent rising (default 0.3).
    ///
    /// # Panics
    /// Unless `pct_start` is in `[0, 1]`, as in PyTorch.
    ///
    /// ```
    /// use shaped::optim::schedule::{OneCycleLr, Schedule};
    /// assert_eq!(OneCycleLr::new(0.1, 10).pct_start(0.5).lr(4), 0.1);
    /// ```
    #[must_use]
    pub fn pct_start(mut self, pct_start: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&pct_start),
            "OneCycleLr: pct_start must be in [0, 1], not {pct_start}"
        );
        self.pct_start = pct_start;
        self
    }

    /// Whether each phase goes along a straight line (`anneal_strategy="linear"`) rather than
    /// half a cosine (`"cos"`, the default).
    ///
    /// ```
    /// use shaped::optim::schedule::{OneCycleLr, Schedule};
    /// // Up from 0.1 / 25 to 0.1 over steps 0 to 4: half-way at step 2.
    /// let s = OneCycleLr::new(0.1, 10).pct_start(0.5).linear_anneal(true);
    /// approx::assert_relative_eq!(s.lr(2), (0.004 + 0.1) / 2.0, epsilon = 1e-15);
    /// ```
    #[must_use]
    pub fn linear_anneal(mut self, linear: bool) -> Self {
        self.linear = linear;
        self
    }

    /// Whether the momentum is cycled too (default true).
    ///
    /// ```
    /// use shaped::optim::schedule::{OneCycleLr, Schedule};
    /// assert_eq!(OneCycleLr::new(0.1, 10).cycle_momentum(false).momentum(0), None);
    /// ```
    #[must_use]
    pub fn cycle_momentum(mut self, cycle: bool) -> Self {
        self.cycle_momentum = cycle;
        self
    }

    /// The momentum at the peak of the learning rate, and at its ends (default 0.85 and 0.95).
    ///
    /// ```
    /// use shaped::optim::schedule::{OneCycleLr, Schedule};
    /// let s = OneCycleLr::new(0.1, 10).momentum_range(0.5, 0.75);
    /// assert_eq!((s.momentum(0), s.momentum(2)), (Some(0.75), Some(0.5)));
    /// ```
    #[must_use]
    pub fn momentum_range(mut self, base_momentum: f64, max_momentum: f64) -> Self {
        self.base_momentum = base_momentum;
        self.max_momentum = max_momentum;
        self
    }

    /// The initial learning rate is `max_lr / div_factor` (default 25).
    ///
    /// ```
    /// use shaped::optim::schedule::{OneCycleLr, Schedule};
    /// assert_eq!(OneCycleLr::new(0.5, 10).div_factor(2.0).lr(0), 0.25);
    /// ```
    #[must_use]
    pub fn div_factor(mut self, div_factor: f64) -> Self {
        self.div_factor = div_factor;
        self
    }

    /// The last learning rate is the initial one divided by `final_div_factor` (default 1e4).
    ///
    /// ```
    /// use shaped::optim::schedule::{OneCycleLr, Schedule};
    /// let s = OneCycleLr::new(1.0, 10).div_factor(2.0).final_div_factor(4.0);
    /// assert_eq!(s.lr(9), 0.125);
    /// ```
    #[must_use]
    pub fn final_div_factor(mut self, final_div_factor: f64) -> Self {
        self.final_div_factor = final_div_factor;
        self
    }

    /// Three phases instead of two (default false): up to `max_lr`, back down to the initial
    /// rate over as many steps, then down to the last rate.
    ///
    /// ```
    /// use shaped::optim::schedule::{OneCycleLr, Schedule};
    /// let s = OneCycleLr::new(1.0, 20).pct_start(0.25).div_factor(2.0).three_phase(true);
    /// assert_eq!([s.lr(4), s.lr(8)], [1.0, 0.5]); // the peak, then back to 1 / 2
    /// ```
    #[must_use]
    pub fn three_phase(mut self, three_phase: bool) -> Self {
        self.three_phase = three_phase;
        self
    }

    /// The learning rate and momentum of `step`, as PyTorch's `OneCycleLR.get_lr` computes them.
    fn at(&self, step: usize) -> (f64, f64) {
        assert!(
            step <= self.total_steps,
            "OneCycleLr: step {step} is past the {} steps of the cycle",
            self.total_steps
        );
        let initial = self.max_lr / self.div_factor;
        let min = initial / self.final_div_factor;
        let (max_m, base_m) = (self.max_momentum, self.base_momentum);
        let total = self.total_steps as f64;
        // (end step, start lr, end lr, start momentum, end momentum)
        let phases: &[(f64, f64, f64, f64, f64)] = if self.three_phase {
            &[
                (
                    self.pct_start * total - 1.0,
                    initial,
                    self.max_lr,
                    max_m,
                    base_m,
                ),
                (
                    2.0 * self.pct_start * total - 2.0,
                    self.max_lr,
                    initial,
                    base_m,
                    max_m,
                ),
                (total - 1.0, initial, min, max_m, max_m),
            ]
        } else {
            &[
                (
                    self.pct_start * total - 1.0,
                    initial,
                    self.max_lr,
                    max_m,
                    base_m,
                ),
                (total - 1.0, self.max_lr, min, base_m, max_m),
            ]
        };
        let step = step as f64;
        let mut start_step = 0.0;
        for (i, &(end_step, lr0, lr1, m0, m1)) in phases.iter().enumerate() {
            if step <= end_step || i == phases.len() - 1 {
                let pct = (step - start_step) / (end_step - start_step);
                return (
                    self.interpolate(lr0, lr1, pct),
                    self.interpolate(m0, m1, pct),
                );
            }
            start_step = end_step;
        }
        unreachable!("the last phase always matches")
    }

    fn interpolate(&self, start: f64, end: f64, pct: f64) -> f64 {
        if self.linear {
            (end - start) * pct + start
        } else {
            end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0)
        }
    }
}

impl Schedule for OneCycleLr {
    /// # Panics
    /// If `step` is past `total_steps` (as PyTorch raises).
    ///
    /// ```
    /// use shaped::optim::schedule::{OneCycleLr, Schedule};
    /// let s = OneCycleLr::new(0.1, 10);
    /// approx::assert_relative_eq!(s.lr(0), 0.1 / 25.0, epsilon = 1e-12); // max_lr / div_factor
    /// assert_eq!(s.lr(2), 0.1); // the peak
    /// ```
    ///
    /// ```should_panic
    /// use shaped::optim::schedule::{OneCycleLr, Schedule};
    /// let _ = OneCycleLr::new(0.1, 10).lr(11);
    /// ```
    fn lr(&self, step: usize) -> f64 {
        self.at(step).0
    }

    fn momentum(&self, step: usize) -> Option<f64> {
        self.cycle_momentum.then(|| self.at(step).1)
    }
}
