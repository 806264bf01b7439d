//! `-a`: elementwise negation.

use crate::{Element, Shape, Tensor, Tracking};

/// `-a` elementwise. `d(-a)/da = -1`. PyTorch: `torch.neg`, numpy: `-a`.
///
/// Edge values, as PyTorch: it flips the sign bit, so `-(0.0)` is `-0.0`, `-inf` is `-inf` and `-NaN`
/// is NaN; the derivative is -1 everywhere, NaN included.
///
/// ```
/// use shaped::Tensor;
/// let a = Tensor::from([1.0, -2.0, 3.0]);
/// assert_eq!((-&a).to_vec(), vec![-1.0, 2.0, -3.0]);
/// assert_eq!((-a).to_vec(), vec![-1.0, 2.0, -3.0]);
/// ```
impl<S: Shape, E: Element, T: Tracking<E>> core::ops::Neg for &Tensor<S, E, T> {
    type Output = Tensor<S, E, T>;
    #[inline]
    fn neg(self) -> Self::Output {
        self.unary(|x| -x, |_, _| -E::one())
    }
}

/// `-a` elementwise, consuming `a`; see the impl for `&Tensor`.
impl<S: Shape, E: Element, T: Tracking<E>> core::ops::Neg for Tensor<S, E, T> {
    type Output = Tensor<S, E, T>;
    #[inline]
    fn neg(self) -> Self::Output {
        -&self
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank3, Tape, Tensor, gradcheck};

    #[test]
    fn negation_flips_the_sign_of_every_element() {
        // -x flips every element's sign, by reference and by value: -[1, -2, 3] = [-1, 2, -3].
        let a = Tensor::from([1.0, -2.0, 3.0]);
        assert_eq!((-&a).to_vec(), vec![-1.0, 2.0, -3.0]);
        assert_eq!((-a).to_vec(), vec![-1.0, 2.0, -3.0]);
        let b = Tensor::from([[1.0_f32, -2.0], [0.5, 0.0]]);
        assert_eq!((-b).to_array(), [[-1.0_f32, 2.0], [-0.5, -0.0]]);
    }

    #[test]
    fn the_sign_bit_flips() {
        let y = (-Tensor::from([0.0, f64::INFINITY, f64::NAN])).to_vec();
        assert!(y[0] == 0.0 && y[0].is_sign_negative());
        assert_eq!(y[1], f64::NEG_INFINITY);
        assert!(y[2].is_nan());
    }

    #[test]
    fn gradient_literal() {
        // f = sum(-a * w): df/da = -w.
        let a = Tensor::from([1.0, -2.0]);
        let w = Tensor::from([3.0, 0.5]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let g = (-&at * &w).sum().backward();
        assert_eq!(g.get(&at).to_vec(), vec![-3.0, -0.5]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let a: Tensor<Rank3<2, 2, 3>, f64> = random(31);
        let w: Tensor<Rank3<2, 2, 3>, f64> = random(32);
        gradcheck(|a| (-(a * &w)).sum(), &a).unwrap();
        gradcheck(|a| (-&a * &a).sum(), &a).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(-a + -a) = -2 sum(a): df/da = -2.
        let a = Tensor::from([1.0, 2.0]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let g = (-&at + -&at).sum().backward();
        assert_eq!(g.get(&at).to_vec(), vec![-2.0, -2.0]);
    }
}
