//! [`Lanes`]: a tensor's data seen as `[outer, len, inner]` for a reduction over its middle axis,
//! and the walk over it that every reduction kernel shares.

use core::ops::Range;

use crate::ReduceAxis;

/// A row-major buffer seen as `[outer, len, inner]`, reduced over its middle axis into a buffer
/// `[outer, inner]` of `outer * inner` sets of `len` elements each.
///
/// For a reduction over axis `AX`, `outer` is the product of the dimensions before it, `len` its
/// size and `inner` the product of the dimensions after it. Each outer block of the full buffer is
/// `len` slices of `inner` elements, lined up with one row of `inner` sets of the reduced buffer:
/// element `k` of every slice belongs to set `k` of the row. When `inner == 1` each set is instead
/// one contiguous run of `len` elements ([`runs`](Lanes::runs)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lanes {
    /// The product of the dimensions before the reduced axis.
    pub(crate) outer: usize,
    /// The size of the reduced axis.
    pub(crate) len: usize,
    /// The product of the dimensions after the reduced axis.
    pub(crate) inner: usize,
}

impl Lanes {
    /// The lanes of a shape reduced over axis `AX`.
    #[inline]
    pub(crate) fn of<const AX: usize, S: ReduceAxis<AX>>(shape: &S) -> Self {
        let (outer, len, inner) = ReduceAxis::<AX>::split(shape);
        Self { outer, len, inner }
    }

    /// The lanes of dimensions `dims` reduced over axis `ax`.
    #[inline]
    pub(crate) fn at(dims: &[usize], ax: usize) -> Self {
        Self {
            outer: dims[..ax].iter().product(),
            len: dims[ax],
            inner: dims[ax + 1..].iter().product(),
        }
    }

    /// All `n` elements as one set.
    #[inline]
    pub(crate) fn all(n: usize) -> Self {
        Self {
            outer: 1,
            len: n,
            inner: 1,
        }
    }

    /// The number of sets, `outer * inner`: the size of the reduced buffer.
    #[inline]
    pub(crate) fn sets(&self) -> usize {
        self.outer * self.inner
    }

    /// Whether each set is one contiguous run of the full buffer (`inner == 1`), walked by
    /// [`runs`](Lanes::runs) rather than [`blocks`](Lanes::blocks).
    #[inline]
    pub(crate) fn contiguous(&self) -> bool {
        self.inner == 1
    }

    /// When `inner == 1`: the range of each set in the full buffer, set `o` being
    /// `o * len..(o + 1) * len`, in order.
    #[inline]
    pub(crate) fn runs(&self) -> impl Iterator<Item = Range<usize>> + use<> {
        let len = self.len;
        (0..self.outer).map(move |o| o * len..(o + 1) * len)
    }

    /// For each outer block in order: the range of its row of `inner` sets in the reduced buffer,
    /// and the ranges of its `len` slices in the full buffer, each `inner` long, in order along the
    /// reduced axis.
    #[inline]
    pub(crate) fn blocks(&self) -> impl Iterator<Item = (Range<usize>, Slices)> + use<> {
        let Self { len, inner, .. } = *self;
        (0..self.outer).map(move |o| {
            let at = o * len * inner;
            (
                o * inner..(o + 1) * inner,
                Slices {
                    at,
                    end: at + len * inner,
                    inner,
                },
            )
        })
    }
}

/// The ranges of the `len` slices of one outer block (see [`Lanes::blocks`]); cloned to walk them
/// again.
#[derive(Clone, Debug)]
pub(crate) struct Slices {
    /// The start of the next slice.
    at: usize,
    /// The end of the block.
    end: usize,
    /// The length of a slice.
    inner: usize,
}

impl Iterator for Slices {
    type Item = Range<usize>;

    #[inline]
    fn next(&mut self) -> Option<Range<usize>> {
        (self.at < self.end).then(|| {
            let start = self.at;
            self.at += self.inner;
            start..self.at
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Lanes;
    use crate::Rank3;

    #[test]
    fn blocks_line_up_slices_with_rows_of_sets() {
        let lanes = Lanes::of::<1, _>(&Rank3::<2, 3, 2>);
        assert_eq!(lanes, Lanes::at(&[2, 3, 2], 1));
        assert_eq!(lanes.sets(), 4);
        let walk: Vec<_> = lanes
            .blocks()
            .map(|(row, slices)| (row, slices.collect::<Vec<_>>()))
            .collect();
        assert_eq!(
            walk,
            [
                (0..2, vec![0..2, 2..4, 4..6]),
                (2..4, vec![6..8, 8..10, 10..12])
            ]
        );
        let last = Lanes::at(&[3, 2], 1);
        assert!(last.contiguous());
        assert_eq!(last.runs().collect::<Vec<_>>(), [0..2, 2..4, 4..6]);
        assert_eq!(
            Lanes::at(&[2, 0, 2], 1)
                .blocks()
                .map(|(_, s)| s.count())
                .sum::<usize>(),
            0
        );
    }
}
