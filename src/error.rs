//! The crate's one error type, for the run-time boundaries: building a tensor from a `Vec` or slice,
//! reading data, loading parameters. Ops on tensors never fail.

use core::fmt;

/// What went wrong, without the details (those are in the message).
///
/// ```
/// use shaped::{ErrorKind, Rank2, Tensor};
/// let err = Tensor::<Rank2<2, 3>>::from_vec(vec![1.0; 5]).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Length);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A buffer has the wrong number of elements for a shape.
    Length,
    /// Text could not be parsed (a number, a CSV row).
    Parse,
    /// A value is outside the allowed range (a class id, a probability).
    OutOfRange,
    /// A file's bytes are not in the expected format.
    Format,
    /// A stored tensor has another shape than the one expected.
    Shape,
    /// A stored tensor has another element type than the one expected.
    Dtype,
    /// A tensor that should be there is not.
    Missing,
    /// A tensor is there that should not be.
    Unexpected,
    /// Reading or writing a file failed.
    Io,
}

/// An error at a run-time boundary. Its message is lowercase and carries the numbers involved.
///
/// ```
/// use shaped::{Rank2, Tensor};
/// let err = Tensor::<Rank2<2, 3>>::from_slice(&[1.0; 5]).unwrap_err();
/// assert_eq!(err.to_string(), "cannot build a tensor of shape [2, 3] from 5 elements: it needs 6");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// The kind of error.
    ///
    /// ```
    /// use shaped::{Const, ErrorKind, Indices, Rank1, Tensor};
    /// let err = Tensor::<Rank1<3>>::from_slice(&[1.0, 2.0]).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Length);
    /// let err = Indices::<Const<1>, Const<4>>::new([4]).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::OutOfRange);
    /// ```
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `[2, 3]` for the dimensions 2 and 3, `[]` for a scalar.
pub(crate) fn dims_str(dims: &[usize]) -> String {
    format!("{dims:?}")
}
