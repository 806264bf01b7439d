//! Element buffers that are recycled instead of freed.
//!
//! A training step allocates the same buffers every time: each op's result, each gradient. A
//! [`Buffer`] returns its memory to a per-thread pool when dropped, and the next buffer of a similar
//! size is taken from there, so a steady-state step reuses memory instead of asking the allocator
//! (and, for large buffers, instead of zeroing fresh pages).
//!
//! A buffer of at least 4 KiB starts on a 64-byte boundary (a cache line): vector loops then need no
//! unaligned head, and when two threads write two halves of a product's result, a cut between two
//! columns at a multiple of 16 `f32` elements falls between cache lines instead of inside one.
//!
//! The pool is bounded: buffers are kept by size class (powers of two), at most [`PER_CLASS`] per class
//! and [`BUDGET_BYTES`] in all per thread and element type; anything beyond is freed as usual.

use core::cell::RefCell;
use core::fmt;
use core::ops::{Deref, DerefMut};
use std::rc::{Rc, Weak};

use crate::Element;
use crate::tape::{NodeId, TapeState};

/// Buffers kept per size class.
const PER_CLASS: usize = 8;
/// Bytes kept in all, per thread and element type.
const BUDGET_BYTES: usize = 64 << 20;
/// Buffers larger than this many bytes are never pooled.
const LARGEST_BYTES: usize = 16 << 20;
/// Size classes: capacities `2^k` for `k < CLASSES`.
const CLASSES: usize = usize::BITS as usize;
/// Buffers of at least this many bytes start on a 64-byte boundary (a cache line).
const ALIGNED_FROM: usize = 4096;

/// A live tape's state, as its thread's pool refers to it (without keeping it alive).
pub(crate) type LiveTape<E> = Weak<RefCell<TapeState<E>>>;

/// The free buffers of one thread for one element type, and its spare tape states.
pub struct Pool<E: Element> {
    /// `classes[k]` holds buffers whose capacity is at least `2^k` (and below `2^(k+1)`).
    classes: Vec<Vec<Vec<E>>>,
    bytes: usize,
    /// States of dropped tapes, for the next `Tape::new`.
    pub(crate) tapes: Vec<Rc<RefCell<TapeState<E>>>>,
    /// Tapes of this thread with watched tensors and no backward pass yet: an op off the tapes on a
    /// value that stands for one of their nodes is recorded there.
    pub(crate) live: Vec<LiveTape<E>>,
    /// The node an op off the tapes was just recorded as, and its element count: the tensor the op
    /// makes next takes it.
    pub(crate) pending: Option<(LiveTape<E>, NodeId, usize)>,
}

impl<E: Element> Default for Pool<E> {
    fn default() -> Self {
        Self {
            classes: (0..CLASSES).map(|_| Vec::new()).collect(),
            bytes: 0,
            tapes: Vec::new(),
            live: Vec::new(),
            pending: None,
        }
    }
}

/// The smallest `k` with `2^k >= len`.
fn class_up(len: usize) -> usize {
    len.next_power_of_two().trailing_zeros() as usize
}

/// The largest `k` with `2^k <= cap` (`cap > 0`).
fn class_down(cap: usize) -> usize {
    (usize::BITS - 1 - cap.leading_zeros()) as usize
}

impl<E: Element> Pool<E> {
    /// A buffer of `len` elements with unspecified (but initialised) contents.
    fn take(&mut self, len: usize) -> Vec<E> {
        let class = class_up(len);
        if let Some(mut v) = self.classes[class].pop() {
            self.bytes -= v.capacity() * size_of::<E>();
            if v.len() >= len {
                v.truncate(len);
            } else {
                v.resize(len, E::zero());
            }
            return v;
        }
        // A new buffer gets a whole size class, so that it returns to the class it is taken from.
        let mut v = Vec::with_capacity(len.next_power_of_two());
        v.resize(len, E::zero());
        v
    }

    /// Keeps `v` for reuse if there is room.
    fn give(&mut self, v: Vec<E>) {
        let bytes = v.capacity() * size_of::<E>();
        if bytes == 0 || bytes > LARGEST_BYTES || self.bytes + bytes > BUDGET_BYTES {
            return;
        }
        let class = &mut self.classes[class_down(v.capacity())];
        if class.len() < PER_CLASS {
            self.bytes += bytes;
            class.push(v);
        }
    }
}

/// A tensor's or a gradient's elements, recycled through the thread's pool when dropped.
pub struct Buffer<E: Element> {
    data: Vec<E>,
    /// Where the elements start in `data`: a large buffer starts on a 64-byte boundary.
    start: usize,
}

impl<E: Element> Buffer<E> {
    /// `len` elements whose values are unspecified: a recycled buffer keeps its old values. Callers
    /// overwrite every element. Builds with debug assertions fill it with NaN instead, so that a read
    /// before a write shows up in the tests.
    #[inline]
    pub(crate) fn uninit(len: usize) -> Self {
        let size = size_of::<E>();
        let pad = if len * size >= ALIGNED_FROM {
            64 / size
        } else {
            0
        };
        let mut data =
            E::with_pool(|p| p.take(len + pad)).unwrap_or_else(|| vec![E::zero(); len + pad]);
        let start = if pad > 0 {
            (64 - data.as_ptr() as usize % 64) % 64 / size
        } else {
            0
        };
        data.truncate(start + len);
        let mut buffer = Self { data, start };
        if cfg!(debug_assertions) {
            buffer.fill(E::nan());
        }
        buffer
    }

    /// `len` zeros.
    #[inline]
    pub(crate) fn zeros(len: usize) -> Self {
        Self::full(len, E::zero())
    }

    /// `len` copies of `value`.
    #[inline]
    pub(crate) fn full(len: usize, value: E) -> Self {
        let mut buffer = Self::uninit(len);
        buffer.fill(value);
        buffer
    }

    /// The values of an iterator of exactly `len` items.
    #[inline]
    pub(crate) fn collect(len: usize, values: impl ExactSizeIterator<Item = E>) -> Self {
        assert_eq!(
            values.len(),
            len,
            "an op produced the wrong number of elements"
        );
        let mut buffer = Self::uninit(len);
        for (slot, v) in buffer.iter_mut().zip(values) {
            *slot = v;
        }
        buffer
    }

    /// `src` repeated `times` times.
    #[inline]
    pub(crate) fn tile(src: &[E], times: usize) -> Self {
        let len = src.len() * times;
        let mut buffer = Self::uninit(len);
        if len > 0 {
            // The copies made so far copied again after them, doubling: a few large copies instead
            // of one short one per repetition.
            buffer[..src.len()].copy_from_slice(src);
            let mut done = src.len();
            while done < len {
                let n = done.min(len - done);
                buffer.copy_within(..n, done);
                done += n;
            }
        }
        buffer
    }

    /// Takes over a vector (no copy).
    #[inline]
    pub(crate) fn from_vec(data: Vec<E>) -> Self {
        Self { data, start: 0 }
    }

    /// The vector, without copying; nothing returns to the pool.
    #[inline]
    pub(crate) fn into_vec(mut self) -> Vec<E> {
        let mut data = core::mem::take(&mut self.data);
        data.drain(..self.start);
        data
    }
}

impl<E: Element> Drop for Buffer<E> {
    #[inline]
    fn drop(&mut self) {
        if self.data.capacity() > 0 {
            let v = core::mem::take(&mut self.data);
            E::with_pool(|p| p.give(v));
        }
    }
}

impl<E: Element> Clone for Buffer<E> {
    fn clone(&self) -> Self {
        let mut copy = Self::uninit(self.len());
        copy.copy_from_slice(self);
        copy
    }
}

impl<E: Element> Deref for Buffer<E> {
    type Target = [E];
    #[inline]
    fn deref(&self) -> &[E] {
        &self.data[self.start..]
    }
}

impl<E: Element> DerefMut for Buffer<E> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [E] {
        &mut self.data[self.start..]
    }
}

impl<'a, E: Element> IntoIterator for &'a Buffer<E> {
    type Item = &'a E;
    type IntoIter = core::slice::Iter<'a, E>;
    fn into_iter(self) -> Self::IntoIter {
        self[..].iter()
    }
}

impl<'a, E: Element> IntoIterator for &'a mut Buffer<E> {
    type Item = &'a mut E;
    type IntoIter = core::slice::IterMut<'a, E>;
    fn into_iter(self) -> Self::IntoIter {
        self[..].iter_mut()
    }
}

impl<E: Element> fmt::Debug for Buffer<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self[..].fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes() {
        assert_eq!(class_up(1), 0);
        assert_eq!(class_up(5), 3);
        assert_eq!(class_up(8), 3);
        assert_eq!(class_down(8), 3);
        assert_eq!(class_down(15), 3);
    }

    #[test]
    fn a_dropped_buffer_is_reused_for_the_same_size() {
        let a = Buffer::<f64>::zeros(100);
        let ptr = a.as_ptr();
        drop(a);
        let b = Buffer::<f64>::uninit(100);
        assert_eq!(b.as_ptr(), ptr);
        assert_eq!(b.len(), 100);
        // Debug builds poison reused memory, so a read before a write is visible (release builds
        // leave it as it was).
        if cfg!(debug_assertions) {
            assert!(b.iter().all(|v| v.is_nan()));
        }
        let c = Buffer::<f64>::zeros(90);
        assert!(c.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn large_buffers_start_on_a_cache_line() {
        // 8192 f32 (32 KiB, a power of two: the padding moves it to the next size class) and an
        // odd length, fresh and reused, filled, tiled, cloned and taken back as a Vec.
        for len in [8192, 1025, 8192, 1025] {
            let b = Buffer::<f32>::full(len, 2.5);
            assert_eq!(b.as_ptr() as usize % 64, 0, "{len}");
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&v| v == 2.5));
            let c = b.clone();
            assert_eq!(c.as_ptr() as usize % 64, 0);
            assert_eq!(&*c, &*b);
            let t = Buffer::<f64>::tile(&[1.0, 2.0], 600);
            assert_eq!(t.as_ptr() as usize % 64, 0);
            assert_eq!(&*t, &[1.0, 2.0].repeat(600)[..]);
            let v = c.into_vec();
            assert_eq!(v, vec![2.5; len]);
        }
        // Small buffers are not padded.
        let small = Buffer::<f32>::zeros(10);
        assert_eq!(small.len(), 10);
    }

    #[test]
    fn tile_repeats_the_source() {
        // 3 elements 5 times: the doubling copies 3, 6, then the last 3 (15 = 3 + 3 + 6 + 3).
        let t = Buffer::<f64>::tile(&[1.0, 2.0, 3.0], 5);
        assert_eq!(&*t, &[1.0, 2.0, 3.0].repeat(5)[..]);
        assert_eq!(&*Buffer::<f64>::tile(&[7.0], 1), &[7.0]);
        assert!(Buffer::<f64>::tile(&[1.0, 2.0], 0).is_empty());
        assert!(Buffer::<f64>::tile(&[], 4).is_empty());
    }

    #[test]
    fn the_pool_is_bounded() {
        let mut pool = Pool::<f32>::default();
        for _ in 0..20 {
            pool.give(Vec::with_capacity(64));
        }
        assert_eq!(pool.classes[6].len(), PER_CLASS);
        pool.give(Vec::with_capacity((LARGEST_BYTES / 4) + 1));
        assert_eq!(pool.bytes, PER_CLASS * 64 * 4);
    }
}
