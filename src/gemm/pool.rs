//! One helper thread for the second half of a product, kept awake between the products of a step.
//!
//! A thread that sleeps between two products takes tens of microseconds to wake (BENCHMARKS.md,
//! "Two threads"), as long as a whole product of a small model's step. So the helper spins for
//! [`SPIN`] after each job before it sleeps: during training, one product follows another within
//! that time and the helper is always awake. And the caller never waits for a helper that has not
//! started: when it has finished its own half and the other half is still unclaimed, it takes that
//! half back and computes it itself. Who computes a half changes nothing in the result: the halves
//! are cut the same way whichever thread runs them.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How long the helper keeps polling for work after its last job before it sleeps: longer than
/// the gap between two products of a training step, short enough not to hold a core long after
/// the products stop.
const SPIN: Duration = Duration::from_millis(2);

/// A job posted to the helper: a closure on the caller's stack, and whether it has run.
struct Job<'a> {
    run: &'a (dyn Fn() + Sync),
    done: AtomicBool,
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

struct Helper {
    /// The posted job (null: none). Whoever swaps it out runs it: the helper or the caller.
    slot: AtomicPtr<Job<'static>>,
    /// Held by the one caller that uses the helper at a time; other callers run both halves.
    busy: AtomicBool,
    /// Whether the helper is (about to be) asleep on `wake`.
    sleeping: AtomicBool,
    /// Set under `lock` by a caller that wakes the helper. The helper then polls again for [`SPIN`]
    /// even if the caller has taken its job back in the meantime: the job of the next product finds
    /// it awake. (Waiting for a posted job alone, a helper that wakes more slowly than the caller
    /// computes its half would find the slot empty at every product and never stay awake.)
    woken: AtomicBool,
    /// How many times the helper has woken from sleep and begun to poll.
    wakes: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
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
            slot: AtomicPtr::new(core::ptr::null_mut()),
            busy: AtomicBool::new(false),
            sleeping: AtomicBool::new(false),
            woken: AtomicBool::new(false),
            wakes: AtomicUsize::new(0),
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

/// Sets how many threads a large matrix product may use: 1 or 2 (the default; larger values mean
/// 2). Only with the `threading` feature, and on a machine with at least two cores.
///
/// A product of at least 2^20 multiply-adds (`m k n`) is cut in two, and the second half runs on a
/// helper thread that stays awake between the products of a training step. The results do not
/// depend on this setting: both halves are computed as they are in the whole product, to the last
/// bit. It applies to every thread of the process, from the next product on.
///
/// ```
/// use shaped::{Rank2, Tensor};
///
/// let a: Tensor<Rank2<256, 256>> = Tensor::full(0.5);
/// let two_threads = a.matmul(&a);
/// shaped::set_threads(1);
/// let one_thread = a.matmul(&a);
/// shaped::set_threads(2);
/// assert_eq!(one_thread, two_threads);
/// ```
pub fn set_threads(threads: usize) {
    THREADS.store(threads.clamp(1, 2), Ordering::Relaxed);
}

/// Products left to run on the calling thread alone after a split that did not pay (see `join`).
static BACKOFF: AtomicUsize = AtomicUsize::new(0);

/// After a split in which the caller waited for the helper longer than half its own half took (the
/// helper's core is busy with other work), this many products are not split.
const BACKOFF_PRODUCTS: usize = 64;

/// Whether products are split in two.
pub(super) fn available() -> bool {
    if THREADS.load(Ordering::Relaxed) < 2 || helper().is_none() {
        return false;
    }
    let left = BACKOFF.load(Ordering::Relaxed);
    if left > 0 {
        BACKOFF.store(left - 1, Ordering::Relaxed);
        return false;
    }
    true
}

impl Helper {
    fn serve(&self) -> ! {
        let mut idle_since = Instant::now();
        loop {
            let job = self.slot.swap(core::ptr::null_mut(), Ordering::Acquire);
            if !job.is_null() {
                // SAFETY: a posted job lives on the stack of a caller that does not return before its
                // `done` is set (`join` waits for it), and `done` is the last thing touched here.
                let job = unsafe { &*job };
                if let Err(payload) = catch_unwind(AssertUnwindSafe(job.run)) {
                    *job.panic.lock().unwrap_or_else(PoisonError::into_inner) = Some(payload);
                }
                job.done.store(true, Ordering::Release);
                idle_since = Instant::now();
                continue;
            }
            if idle_since.elapsed() < SPIN {
                // Polls, but gives the core to any other thread that is ready to run: on a busy
                // machine that may be the caller of the next product.
                thread::yield_now();
                continue;
            }
            // Sleep until a caller wakes the helper. `sleeping` is set before the slot is checked
            // again, and a caller posts before it reads `sleeping` (both sequentially consistent), so
            // either this sees the job or the caller sees `sleeping` and sets `woken` under the lock.
            let guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.sleeping.store(true, Ordering::SeqCst);
            let guard = self
                .wake
                .wait_while(guard, |()| {
                    self.slot.load(Ordering::SeqCst).is_null()
                        && !self.woken.load(Ordering::Relaxed)
                })
                .unwrap_or_else(PoisonError::into_inner);
            self.woken.store(false, Ordering::Relaxed);
            self.sleeping.store(false, Ordering::SeqCst);
            self.wakes.fetch_add(1, Ordering::Relaxed);
            drop(guard);
            idle_since = Instant::now();
        }
    }
}

/// Runs `first` and `second`, `second` on the helper thread if it is free and picks it up in time,
/// and returns when both have run. A panic in either is resumed here after both have finished.
pub(super) fn join(first: impl FnOnce(), second: impl Fn() + Sync) {
    let Some(helper) = helper().filter(|h| {
        h.busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }) else {
        first();
        second();
        return;
    };
    let job = Job {
        run: &second,
        done: AtomicBool::new(false),
        panic: Mutex::new(None),
    };
    let ptr = (&raw const job).cast_mut().cast::<Job<'static>>();
    helper.slot.store(ptr, Ordering::SeqCst);
    if helper.sleeping.load(Ordering::SeqCst) {
        let _guard = helper.lock.lock().unwrap_or_else(PoisonError::into_inner);
        helper.woken.store(true, Ordering::Relaxed);
        helper.wake.notify_one();
    }
    let asleep = helper.sleeping.load(Ordering::Relaxed);
    let start = Instant::now();
    let mine = catch_unwind(AssertUnwindSafe(first));
    let own = start.elapsed();
    if helper
        .slot
        .compare_exchange(
            ptr,
            core::ptr::null_mut(),
            Ordering::Acquire,
            Ordering::Relaxed,
        )
        .is_ok()
    {
        // The helper did not pick it up: run it here. Unless it was waking from sleep (it will be
        // awake for the next product), its core is busy with other work: stop splitting for a while.
        if !asleep {
            BACKOFF.store(BACKOFF_PRODUCTS, Ordering::Relaxed);
        }
        if let Err(payload) = catch_unwind(AssertUnwindSafe(&second)) {
            *job.panic.lock().unwrap_or_else(PoisonError::into_inner) = Some(payload);
        }
    } else {
        let waiting = Instant::now();
        while !job.done.load(Ordering::Acquire) {
            if waiting.elapsed() < Duration::from_micros(50) {
                core::hint::spin_loop();
            } else {
                thread::yield_now();
            }
        }
        if waiting.elapsed() > own / 2 {
            BACKOFF.store(BACKOFF_PRODUCTS, Ordering::Relaxed);
        }
    }
    helper.busy.store(false, Ordering::Release);
    if let Err(payload) = mine {
        resume_unwind(payload);
    }
    if let Some(payload) = job
        .panic
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
    {
        resume_unwind(payload);
    }
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
    fn a_helper_woken_for_a_half_taken_back_wakes_and_polls() {
        let Some(helper) = helper() else { return };
        // The caller's half is empty, so it takes the helper's half back (or the helper runs it):
        // either way the sleeping helper must leave its sleep, so that it is awake for the next
        // product. Repeated, in case another test's product woke the helper in the meantime.
        for _ in 0..5 {
            assert!(within(10, || helper.sleeping.load(Ordering::SeqCst)));
            let before = helper.wakes.load(Ordering::Relaxed);
            join(|| {}, || {});
            if within(10, || helper.wakes.load(Ordering::Relaxed) > before) {
                return;
            }
        }
        panic!("the helper stayed asleep");
    }
}
