//! One helper thread that shares the pieces of a product with the caller, kept awake between the
//! products of a step.
//!
//! `gemm` cuts a large product in two pieces at a multiple of 16 rows or columns of the result. The
//! caller computes the first and the helper the second, each in one run: every run is one call into
//! matrixmultiply, which packs the operand that both runs read once per call, and each thread
//! computes the same part of a weight's products at every step (and, through
//! [`in_two_parts`](super::in_two_parts), the same part of its update), so that part stays in that
//! core's cache from one step to the next. Dividing smaller pieces as they are taken, so that the
//! faster core computes more, measured slower: the extra runs pack the shared operand again, and
//! the parts that move between the cores cost more than the balance gains (BENCHMARKS.md, "Two
//! threads"). Instead, the time each thread takes for its piece moves the cut slowly
//! ([`caller_share`]): a core that runs slower for a while gets a smaller piece of every product.
//!
//! A thread that sleeps between two products takes tens of microseconds to wake (BENCHMARKS.md,
//! "Two threads"), as long as a whole product of a small model's step. So the helper spins for
//! [`SPIN`] after each job before it sleeps: during training, one product follows another within
//! that time and the helper is always awake; a product that finds it asleep is computed whole, and
//! wakes it for the next. The caller never waits for a helper that has not started: once it has
//! computed its piece, it takes the helper's too if the helper has not taken it, and otherwise
//! waits only for the run the helper is computing. Who computes a piece changes nothing in the
//! result: the pieces are cut the same way whichever thread runs them, and a run of pieces is
//! computed as its pieces are.

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How long the helper keeps polling for work after its last job before it sleeps: longer than
/// the gap between two products of a training step, short enough not to hold a core long after
/// the products stop.
const SPIN: Duration = Duration::from_millis(2);

/// A panic caught in a piece, to be resumed on the caller.
type Payload = Box<dyn std::any::Any + Send>;

/// A job posted to the helper: the caller's closure that computes a run of pieces, on its stack.
struct Job<'a> {
    pieces: &'a (dyn Fn(Range<usize>) + Sync),
    /// The first panic of a run the helper computed.
    panic: Mutex<Option<Payload>>,
}

struct Helper {
    /// The pieces of the posted job not taken yet: the first in the low 32 bits, the end in the
    /// high 32. The caller takes from the front (moving the low half on), the helper from the back
    /// (moving the high half down); each owns the pieces it passed over. Between jobs, no piece is
    /// left (the low half is at least the high half).
    work: AtomicU64,
    /// The posted job, valid while one of its pieces is unfinished (written before `work`).
    job: AtomicPtr<Job<'static>>,
    /// The number of pieces of the posted job (written before `work`).
    count: AtomicUsize,
    /// How many pieces of the posted job the helper has finished (reset before `work` is written).
    done: AtomicUsize,
    /// Held by the one caller that uses the helper at a time; other callers compute their products
    /// whole.
    busy: AtomicBool,
    /// Whether the helper is (about to be) asleep on `wake`.
    sleeping: AtomicBool,
    /// Set under `lock` by a caller that wakes the helper. The helper then polls for [`SPIN`] even
    /// if it finds no piece left: the job of the next product finds it awake. (Waking for a piece
    /// alone, a helper that wakes more slowly than the caller computes a product would find nothing
    /// left at every product and never stay awake.)
    woken: AtomicBool,
    /// How many times the helper has woken from sleep and begun to poll.
    wakes: AtomicUsize,
    /// How long, in nanoseconds, the helper's last run of pieces took (written before `done`).
    run_ns: AtomicU64,
    lock: Mutex<()>,
    wake: Condvar,
}

/// The first piece left and the end of those left in a value of `Helper::work`.
fn unpack(work: u64) -> (usize, usize) {
    ((work & 0xffff_ffff) as usize, (work >> 32) as usize)
}

/// The helper, started at the first call on a machine with at least two cores (`None` on one core,
/// or when the thread cannot be started).
fn helper() -> Option<&'static Helper> {
    static HELPER: OnceLock<Option<&'static Helper>> = OnceLock::new();
    *HELPER.get_or_init(|| {
        if thread::available_parallelism().map_or(1, usize::from) < 2 {
            return None;
        }
        let helper: &'static Helper = Box::leak(Box::new(Helper {
            work: AtomicU64::new(0),
            job: AtomicPtr::new(core::ptr::null_mut()),
            count: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            busy: AtomicBool::new(false),
            sleeping: AtomicBool::new(false),
            woken: AtomicBool::new(false),
            wakes: AtomicUsize::new(0),
            run_ns: AtomicU64::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }));
        thread::Builder::new()
            .name("shaped-gemm".into())
            .spawn(move || helper.serve())
            .ok()
            .map(|_| helper)
    })
}

/// The number of threads set by [`set_threads`].
static THREADS: AtomicUsize = AtomicUsize::new(2);

/// Sets how many threads a large matrix product may use: 1 or 2 (the default; 0 means 1, larger
/// values mean 2). Only with the `threading` feature, and on a machine with at least two cores.
///
/// A product of at least 2^20 multiply-adds (`m k n`) is cut in two blocks of rows or columns of
/// the result: the calling thread computes the first and a helper thread (one for the process,
/// awake between the products of a training step) the second; SGD, Adam and AdamW update a
/// parameter of at least 2^15 values in the same two parts. The product is computed whole on the
/// calling thread when the helper is asleep (it is woken for the next one), busy with another
/// thread's product, or took no part of the last few products it was offered. The cut is at half,
/// and moves (in sixteenths) when one thread is measured to compute faster than the other for a
/// while. The results do not depend on this setting or on the cut: every block is computed as it
/// is in the whole product, so they are the same as with one thread, to the last bit. The setting
/// applies to every thread of the process, from the next product on.
///
/// ```
/// use shaped::{Rank2, Tensor};
///
/// // Values whose sums round differently in another order: 256^3 = 2^24 multiply-adds, cut in two.
/// let a: Tensor<Rank2<256, 256>> = Tensor::from_fn(|[i, j]| 1.0 / (1 + i + 2 * j) as f32);
/// shaped::set_threads(1);
/// let one_thread = a.matmul(&a);
/// shaped::set_threads(2);
/// // (The first product may find the helper asleep and wake it for the next ones.)
/// for _ in 0..3 {
///     assert_eq!(a.matmul(&a), one_thread); // the same bits
/// }
/// // c[0][0] = sum over k of a[0][k] a[k][0] = 1 / ((1 + 2k) (1 + k))
/// let want: f64 = (0..256).map(|k| 1.0 / ((1 + 2 * k) * (1 + k)) as f64).sum();
/// assert!((f64::from(one_thread[[0, 0]]) - want).abs() < 1e-5);
/// ```
pub fn set_threads(threads: usize) {
    THREADS.store(threads.clamp(1, 2), Ordering::Relaxed);
}

/// Products left to compute whole after [`MISSES`] splits in a row in which the helper, awake, took
/// no piece: its core is busy with other work, and each split would only cost the caller a second
/// call into matrixmultiply.
static BACKOFF: AtomicUsize = AtomicUsize::new(0);

/// Splits in a row in which the helper took no piece.
static MISSED: AtomicUsize = AtomicUsize::new(0);

/// After this many splits in a row without the helper's help, [`BACKOFF_PRODUCTS`] products are
/// computed whole. (A single miss happens on an idle machine too, when the helper's core is taken
/// away for a moment; stopping the splits for it would cost more than the miss.)
const MISSES: usize = 3;

/// How many products the splitting stops for after [`MISSES`] misses.
const BACKOFF_PRODUCTS: usize = 16;

impl Helper {
    /// Takes pieces of the posted job, if any is left: for the caller the first half of them, or
    /// once that is taken all that are left; for the helper (`back`) the second half, or what is
    /// left of it.
    fn claim(&self, back: bool) -> Option<Range<usize>> {
        let half = self.count.load(Ordering::Relaxed).div_ceil(2);
        let mut work = self.work.load(Ordering::Acquire);
        loop {
            let (next, end) = unpack(work);
            let run = if back {
                next.max(half)..end
            } else {
                next..if next < half { half.min(end) } else { end }
            };
            if run.is_empty() {
                return None;
            }
            let taken = run.len() as u64;
            let moved = if back {
                work - (taken << 32)
            } else {
                work + taken
            };
            match self
                .work
                .compare_exchange_weak(work, moved, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => return Some(run),
                Err(now) => work = now,
            }
        }
    }

    /// Takes and computes a run of pieces of the posted job, if one is left.
    fn take(&self) -> bool {
        let (next, count) = unpack(self.work.load(Ordering::Acquire));
        if next >= count {
            return false;
        }
        let Some(run) = self.claim(true) else {
            return false;
        };
        // SAFETY: the pieces in `run` are ours and unfinished, so their job is the one posted last
        // (a caller posts the next job only after the helper has finished every piece it took of
        // this one, counted by `done`), and it lives on the stack of a caller that waits for `done`.
        // `job` was written before the `work` we moved on (release, acquire).
        let job = unsafe { &*self.job.load(Ordering::Relaxed) };
        let taken = run.len();
        let start = Instant::now();
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| (job.pieces)(run))) {
            job.panic
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert(payload);
        }
        self.run_ns.store(nanos(start.elapsed()), Ordering::Relaxed);
        // The last touch of the job.
        self.done.fetch_add(taken, Ordering::Release);
        true
    }

    fn serve(&self) -> ! {
        let mut idle_since = Instant::now();
        loop {
            if self.take() {
                idle_since = Instant::now();
                continue;
            }
            if idle_since.elapsed() < SPIN {
                // Polls, but gives the core to any other thread that is ready to run: on a busy
                // machine that may be the caller of the next product.
                thread::yield_now();
                continue;
            }
            // Sleep until a caller wakes the helper. `sleeping` is set before `work` is checked
            // again, and a caller posts before it reads `sleeping` (both sequentially consistent), so
            // either this sees the job or the caller sees `sleeping` and sets `woken` under the lock.
            let guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.sleeping.store(true, Ordering::SeqCst);
            let guard = self
                .wake
                .wait_while(guard, |()| {
                    let (next, count) = unpack(self.work.load(Ordering::SeqCst));
                    next >= count && !self.woken.load(Ordering::Relaxed)
                })
                .unwrap_or_else(PoisonError::into_inner);
            self.woken.store(false, Ordering::Relaxed);
            self.sleeping.store(false, Ordering::SeqCst);
            self.wakes.fetch_add(1, Ordering::Relaxed);
            drop(guard);
            idle_since = Instant::now();
        }
    }

    /// Wakes the helper if it sleeps, and keeps it polling for the next product.
    fn wake_up(&self) {
        if self.sleeping.load(Ordering::SeqCst) {
            let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.woken.store(true, Ordering::Relaxed);
            self.wake.notify_one();
        }
    }
}

/// How the work of a split product is shared between the caller and the helper, learned from the
/// time each takes for its part.
struct Balance {
    /// The caller's share of each split product, in sixteenths, from 4 to 12; 8 (halves) at first.
    share: AtomicUsize,
    /// The caller's share that would have both threads finish together, in 1/65536ths, averaged
    /// over the last splits: each moves it a sixteenth of the way to what that split measured.
    estimate: AtomicUsize,
}

/// One sixteenth in the units of `Balance::estimate`.
const SIXTEENTH: usize = 1 << 12;

/// The caller's share moves when the estimate is more than three quarters of a sixteenth away
/// from it, so that timing noise does not move the cut back and forth.
const HYSTERESIS: usize = SIXTEENTH * 3 / 4;

impl Balance {
    const fn new() -> Self {
        Self {
            share: AtomicUsize::new(8),
            estimate: AtomicUsize::new(8 * SIXTEENTH),
        }
    }

    /// The caller's share, in sixteenths.
    fn share(&self) -> usize {
        self.share.load(Ordering::Relaxed)
    }

    /// Folds in a split in which the caller computed `work.0` (in any unit) in `ns.0` nanoseconds
    /// and the helper `work.1` in `ns.1`.
    fn record(
        &self,
        (caller_work, helper_work): (usize, usize),
        (caller_ns, helper_ns): (u64, u64),
    ) {
        if caller_work == 0 || helper_work == 0 || caller_ns == 0 || helper_ns == 0 {
            return;
        }
        // Each thread's speed is its work over its time; the share that equalizes their times is
        // the caller's speed over the sum of both.
        let caller_speed = caller_work as f64 / caller_ns as f64;
        let helper_speed = helper_work as f64 / helper_ns as f64;
        let target = (16 * SIXTEENTH) as f64 * caller_speed / (caller_speed + helper_speed);
        let old = self.estimate.load(Ordering::Relaxed) as f64;
        let (low, high) = ((4 * SIXTEENTH) as f64, (12 * SIXTEENTH) as f64);
        // Clamped to 4 to 12 sixteenths: a positive whole number below 2^16.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let estimate = (old + (target - old) / 16.0).clamp(low, high).round() as usize;
        self.estimate.store(estimate, Ordering::Relaxed);
        if estimate.abs_diff(self.share() * SIXTEENTH) > HYSTERESIS {
            self.share
                .store((estimate + SIXTEENTH / 2) / SIXTEENTH, Ordering::Relaxed);
        }
    }
}

/// The balance of the process's splits.
static BALANCE: Balance = Balance::new();

/// The share of each split product that the caller computes, in sixteenths, from 4 to 12: 8
/// (halves) while the two threads compute their parts in the same time. `gemm` cuts its products
/// and parameter updates there (`super::cut`), so a core that runs slower (another process on it,
/// the slower core of a hybrid processor, a virtual core its host gives less time) gets less of
/// each, and a weight's rows stay with the same thread from one step to the next unless the
/// measured balance moves by most of a sixteenth. The results do not depend on it: every cut
/// computes each element as the whole product does.
pub(crate) fn caller_share() -> usize {
    BALANCE.share()
}

/// A duration in nanoseconds, saturating.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Whether [`split`] may share work with the helper: two threads are set and the machine has a
/// helper.
pub(crate) fn two_threads() -> bool {
    THREADS.load(Ordering::Relaxed) >= 2 && helper().is_some()
}

/// Runs `pieces` over `0..count` in runs that the calling thread and the helper thread take, each
/// index once: the caller the first half of them (rounded up), the helper the rest, unless the
/// caller finds them still untaken once its own have run. Returns `true` when all have run; a panic
/// in a run is resumed here after all have run. Returns `false` without running any when the work
/// is better done whole: one thread is set, there is no helper, another thread is using it, it is
/// asleep (then it is woken for the next product), or it took nothing of the last few jobs it was
/// offered (or `count` does not fit 32 bits).
///
/// `work` is the amount of work (in any unit) in the caller's pieces and in the helper's: when each
/// thread computed its own, the time each took updates the share of the work that products give
/// the caller ([`caller_share`]). `(0, 0)` records nothing.
pub(crate) fn split(
    count: usize,
    work: (usize, usize),
    pieces: &(dyn Fn(Range<usize>) + Sync),
) -> bool {
    split_with(&BALANCE, count, work, pieces)
}

/// [`split`], recording the threads' times in `balance`.
fn split_with(
    balance: &Balance,
    count: usize,
    work: (usize, usize),
    pieces: &(dyn Fn(Range<usize>) + Sync),
) -> bool {
    // `Helper::work` counts pieces in 32 bits.
    if THREADS.load(Ordering::Relaxed) < 2 || u32::try_from(count).is_err() {
        return false;
    }
    let left = BACKOFF.load(Ordering::Relaxed);
    if left > 0 {
        BACKOFF.store(left - 1, Ordering::Relaxed);
        return false;
    }
    let Some(helper) = helper().filter(|h| {
        h.busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }) else {
        return false;
    };
    if helper.sleeping.load(Ordering::SeqCst) {
        helper.wake_up();
        helper.busy.store(false, Ordering::Release);
        return false;
    }
    let job = Job {
        pieces,
        panic: Mutex::new(None),
    };
    helper.done.store(0, Ordering::Relaxed);
    helper.count.store(count, Ordering::Relaxed);
    helper
        .job
        .store((&raw const job).cast_mut().cast(), Ordering::Relaxed);
    helper.work.store((count as u64) << 32, Ordering::SeqCst);
    // It may have fallen asleep since it was seen awake.
    helper.wake_up();
    let mut mine = 0;
    let mut panic = None;
    let start = Instant::now();
    let mut own_ns = None;
    // Its pieces, then the helper's if the helper has not taken them.
    while let Some(run) = helper.claim(false) {
        mine += run.len();
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| pieces(run))) {
            panic.get_or_insert(payload);
        }
        // The time of its own pieces.
        own_ns.get_or_insert_with(|| nanos(start.elapsed()));
    }
    // Every piece is taken: wait for those the helper is computing.
    let waiting = Instant::now();
    while helper.done.load(Ordering::Acquire) < count - mine {
        if waiting.elapsed() < Duration::from_micros(50) {
            core::hint::spin_loop();
        } else {
            thread::yield_now();
        }
    }
    let panic = panic.or_else(|| {
        job.panic
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    });
    // Still holding the helper, so that no other caller records at the same time.
    if mine < count {
        // Each thread computed its own part, in full: their times say how fast each is.
        if mine == count.div_ceil(2) && panic.is_none() {
            let helper_ns = helper.run_ns.load(Ordering::Relaxed);
            balance.record(work, (own_ns.unwrap_or(0), helper_ns));
        }
        MISSED.store(0, Ordering::Relaxed);
    } else if MISSED.fetch_add(1, Ordering::Relaxed) + 1 >= MISSES {
        MISSED.store(0, Ordering::Relaxed);
        BACKOFF.store(BACKOFF_PRODUCTS, Ordering::Relaxed);
    }
    helper.busy.store(false, Ordering::Release);
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls `done` for up to `secs` seconds.
    fn within(secs: u64, done: impl Fn() -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(secs) {
            if done() {
                return true;
            }
            thread::sleep(Duration::from_micros(200));
        }
        done()
    }

    #[test]
    fn every_piece_runs_once_and_each_thread_takes_its_half() {
        // Pieces that take a while (so that the helper, once awake, takes its half), counted, with
        // the thread that ran each. Other tests may hold the helper for seconds (large products in
        // debug builds), so splits are tried until the helper has taken part in one and 20 ran.
        let caller = thread::current().id();
        for count in [2, 3, 8, 49, 100] {
            let runs: Vec<AtomicUsize> = (0..count).map(|_| AtomicUsize::new(0)).collect();
            let (mut tries, mut shared) = (0, false);
            let start = Instant::now();
            while tries < 20
                || (!shared && helper().is_some() && start.elapsed() < Duration::from_secs(30))
            {
                tries += 1;
                BACKOFF.store(0, Ordering::Relaxed);
                let helper_ran = Mutex::new(Vec::new());
                let all = split(count, (0, 0), &|run: Range<usize>| {
                    if thread::current().id() != caller {
                        helper_ran.lock().unwrap().push(run.clone());
                    }
                    for i in run {
                        runs[i].fetch_add(1, Ordering::Relaxed);
                        let start = Instant::now();
                        while start.elapsed() < Duration::from_micros(20) {
                            core::hint::spin_loop();
                        }
                    }
                });
                let helper_ran = helper_ran.into_inner().unwrap();
                // The helper takes the second half in one run, or nothing.
                assert!(
                    helper_ran.is_empty()
                        || (helper_ran.len() == 1 && helper_ran[0] == (count.div_ceil(2)..count))
                );
                shared |= !helper_ran.is_empty();
                if !all {
                    // The helper is busy with another test's product, or asleep (and now woken):
                    // nothing ran.
                    for r in &runs {
                        r.fetch_add(1, Ordering::Relaxed);
                    }
                    thread::sleep(Duration::from_millis(1));
                }
            }
            assert!(runs.iter().all(|r| r.load(Ordering::Relaxed) == tries));
            assert!(
                shared || helper().is_none(),
                "the helper never took its half of {count}"
            );
        }
    }

    #[test]
    fn the_share_follows_a_lasting_difference_in_speed_and_not_one_split() {
        let balance = Balance::new();
        // One split in which the helper took twice the caller's time moves the estimate a
        // sixteenth of the way from 8 sixteenths to 10.7 (2/3): 8.2, within the hysteresis.
        balance.record((64, 64), (50_000, 100_000));
        assert_eq!(balance.share(), 8);
        // Phases of 200 splits each: the work of each side, the time of each, the share after.
        let phases = [
            // Lasting: the estimate nears 10.7 sixteenths (2/3) from below, and the share follows
            // it once it is 3/4 of a sixteenth away: to 9, then 10, which is within 3/4 of 10.7.
            ((64, 64), (50_000, 100_000), 10),
            // Cut 80 : 48, times 80 and 96 are the same speeds 1 and 1/2: the share stays.
            ((80, 48), (80_000, 96_000), 10),
            // Both as fast again: back to halves.
            ((64, 64), (70_000, 70_000), 8),
            // A helper a hundred times slower: the caller's share stops at 12 sixteenths.
            ((64, 64), (1_000, 100_000), 12),
            // No work on one side, or no time measured: nothing to learn from, nothing moves.
            ((0, 64), (1, 1), 12),
            ((64, 64), (0, 70_000), 12),
        ];
        for (work, times, share) in phases {
            for _ in 0..200 {
                balance.record(work, times);
            }
            assert_eq!(balance.share(), share, "after {work:?} in {times:?}");
        }
    }

    #[test]
    fn a_split_gives_less_to_the_thread_that_took_longer() {
        if helper().is_none() {
            // One core: nothing is ever split.
            return;
        }
        // Two pieces of the same work (1 and 1), of which `slow` spins four times as long: the
        // splits' times must move a balance of their own toward the other thread, from 8
        // sixteenths to at least 11 (at most 5; balanced, the faster thread would take 4/5).
        // Splits are run until it has, for up to 30 s: other tests' products may hold the helper,
        // or it may be asleep, and on a loaded machine either thread may lose its core in the
        // middle of a piece, so a single split can point the wrong way. (With the two times
        // swapped in `split_with`, the share goes the other way and this fails.)
        for slow in [1, 0] {
            let balance = Balance::new();
            let reached = |share: usize| if slow == 1 { share >= 11 } else { share <= 5 };
            let (mut recorded, start) = (0, Instant::now());
            while !reached(balance.share()) && start.elapsed() < Duration::from_secs(30) {
                BACKOFF.store(0, Ordering::Relaxed);
                let caller = thread::current().id();
                let helper_ran = AtomicBool::new(false);
                let all = split_with(&balance, 2, (1, 1), &|run: Range<usize>| {
                    if thread::current().id() != caller {
                        helper_ran.store(true, Ordering::Relaxed);
                    }
                    for i in run {
                        let spin = Duration::from_micros(if i == slow { 200 } else { 50 });
                        let start = Instant::now();
                        while start.elapsed() < spin {
                            core::hint::spin_loop();
                        }
                    }
                });
                if helper_ran.load(Ordering::Relaxed) {
                    recorded += 1;
                } else if !all {
                    thread::sleep(Duration::from_millis(1));
                }
            }
            assert!(
                reached(balance.share()),
                "share {} after {recorded} splits with the piece {slow} slower",
                balance.share()
            );
        }
    }

    #[test]
    fn a_panic_in_a_piece_reaches_the_caller_after_every_piece_ran() {
        if helper().is_none() {
            // One core: nothing is ever split.
            return;
        }
        // Piece 5 is in the caller's half, piece 12 in the helper's: either panic reaches the caller.
        for bad in [5, 12] {
            let ran = AtomicUsize::new(0);
            let mut split_once = false;
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(30) {
                ran.store(0, Ordering::Relaxed);
                BACKOFF.store(0, Ordering::Relaxed);
                let result = catch_unwind(AssertUnwindSafe(|| {
                    split(16, (0, 0), &|run: Range<usize>| {
                        for i in run {
                            ran.fetch_add(1, Ordering::Relaxed);
                            assert!(i != bad, "a bad piece");
                        }
                    })
                }));
                match result {
                    Ok(all) => {
                        assert!(!all, "a split that ran every piece returned");
                        thread::sleep(Duration::from_millis(1));
                    }
                    Err(payload) => {
                        assert_eq!(payload.downcast_ref::<&str>(), Some(&"a bad piece"));
                        // Every piece of the half that panicked before it, and the other half.
                        assert!(ran.load(Ordering::Relaxed) > 8 + bad % 8);
                        split_once = true;
                        break;
                    }
                }
            }
            assert!(split_once);
        }
    }

    #[test]
    fn a_helper_woken_for_pieces_taken_back_wakes_and_polls() {
        let Some(helper) = helper() else { return };
        // The pieces are empty, so the caller may take them all before the helper wakes: the
        // sleeping helper must leave its sleep anyway, so that it is awake for the next product.
        // Repeated, in case another test's product woke the helper in the meantime.
        for _ in 0..5 {
            assert!(within(10, || helper.sleeping.load(Ordering::SeqCst)));
            let before = helper.wakes.load(Ordering::Relaxed);
            BACKOFF.store(0, Ordering::Relaxed);
            split(2, (0, 0), &|_| {});
            if within(10, || helper.wakes.load(Ordering::Relaxed) > before) {
                return;
            }
        }
        panic!("the helper stayed asleep");
    }
}
