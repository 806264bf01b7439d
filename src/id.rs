//! Tensor identities: a number no other tensor value ever has.
//!
//! The tape keys the gradients of leaves by this id rather than by address, because an address can be
//! reused once a tensor is freed. Reshapes of a tensor keep its id (they are the same variable), and so
//! do clones of a tensor on a tape (the same node); a clone of a tensor off the tapes is a new variable
//! with a fresh id, as are every op result and [`detach`](crate::Tensor::detach).

use core::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Ids are handed to threads in blocks, so taking one is a thread-local increment.
const BLOCK: u64 = 1 << 20;
static NEXT_BLOCK: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The next id of this thread's block, and the end of the block.
    static IDS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// A fresh tensor id.
#[inline]
pub(crate) fn next_id() -> u64 {
    IDS.with(|ids| {
        let (mut next, mut end) = ids.get();
        if next == end {
            next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
            end = next + BLOCK;
        }
        ids.set((next + 1, end));
        next
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_across_threads() {
        let other: Vec<u64> = std::thread::spawn(|| (0..10).map(|_| next_id()).collect())
            .join()
            .unwrap();
        let mine: Vec<u64> = (0..10).map(|_| next_id()).collect();
        assert!(other.iter().all(|id| !mine.contains(id)));
        assert!(mine.windows(2).all(|w| w[0] < w[1]));
    }
}
