//! Messages assembled at compile time, for the rules that stable Rust can only check as `const`
//! assertions (a reshape's element count, a broadcast's sizes, a concatenation's or a convolution's
//! output size): the first line of the error then names the sizes involved, since a `const` panic
//! may print a `&str` built by a `const fn`.
//!
//! ```ignore
//! const {
//!     if A != B {
//!         let m = ConstMsg::new().str("reshape: ").num(A).str(" elements cannot make ").num(B);
//!         panic!("{}", m.as_str());
//!     }
//! }
//! ```

/// The longest message, in bytes.
const CAPACITY: usize = 400;

/// A message of text and numbers built in a `const` context.
pub(crate) struct ConstMsg {
    buf: [u8; CAPACITY],
    len: usize,
}

impl ConstMsg {
    /// An empty message.
    pub(crate) const fn new() -> Self {
        Self {
            buf: [0; CAPACITY],
            len: 0,
        }
    }

    /// The message with `s` appended (cut at the capacity).
    pub(crate) const fn str(mut self, s: &str) -> Self {
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < CAPACITY {
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    /// The message with `n` appended in decimal.
    #[allow(clippy::cast_possible_truncation)] // a digit, `n % 10`, fits a byte
    pub(crate) const fn num(mut self, mut n: usize) -> Self {
        let mut digits = [0_u8; 20];
        let mut k = 0;
        if n == 0 {
            digits[0] = b'0';
            k = 1;
        }
        while n > 0 {
            // A decimal digit: below 10, so the cast is exact.
            #[allow(clippy::cast_possible_truncation)]
            let digit = (n % 10) as u8;
            digits[k] = b'0' + digit;
            n /= 10;
            k += 1;
        }
        while k > 0 && self.len < CAPACITY {
            k -= 1;
            self.buf[self.len] = digits[k];
            self.len += 1;
        }
        self
    }

    /// The message with dimensions appended as `[2, 3]`.
    pub(crate) const fn dims(mut self, dims: &[usize]) -> Self {
        self = self.str("[");
        let mut i = 0;
        while i < dims.len() {
            if i > 0 {
                self = self.str(", ");
            }
            self = self.num(dims[i]);
            i += 1;
        }
        self.str("]")
    }

    /// The message so far.
    pub(crate) const fn as_str(&self) -> &str {
        let (head, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(head) {
            Ok(s) => s,
            Err(_) => "(a message cut inside a character)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ConstMsg;

    const MSG: ConstMsg = ConstMsg::new()
        .str("shape ")
        .dims(&[2, 30])
        .str(" has ")
        .num(60)
        .str(" elements, ")
        .num(0);

    #[test]
    fn text_and_numbers_are_written_at_compile_time() {
        assert_eq!(MSG.as_str(), "shape [2, 30] has 60 elements, 0");
        assert_eq!(ConstMsg::new().dims(&[]).as_str(), "[]");
    }
}
