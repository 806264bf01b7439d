//! `Display` and `Debug` for tensors, laid out the way numpy and PyTorch print arrays.
//!
//! `Display` prints the values as nested brackets, one row per line, all elements in one width (and
//! `[]` with the shape for a tensor with no elements). `Debug`
//! wraps that in `Tensor(..., shape=[..], dtype=..)`. Tensors with more than 1000 elements show the
//! first and last three entries of each axis with `...` between, like numpy.

use core::fmt::{self, Display, Write};

use crate::{Element, Shape, Tensor, Tracking};

/// Tensors with more elements than this are elided (numpy's default threshold).
const THRESHOLD: usize = 1000;
/// Entries kept at each end of an elided axis.
const EDGE: usize = 3;

/// How every element of one tensor is written.
#[derive(Clone, Copy)]
enum Style {
    /// `{:.p}` with a precision the caller asked for.
    Fixed(usize),
    /// Whole numbers: `3.0`.
    Whole,
    /// `{:.4e}` for very large or very small magnitudes.
    Sci,
}

fn style_for<E: Element>(data: &[E], precision: Option<usize>) -> Style {
    if let Some(p) = precision {
        return Style::Fixed(p);
    }
    let finite = data.iter().filter(|v| v.is_finite());
    let (mut max, mut min_nonzero, mut whole) = (0.0_f64, f64::INFINITY, true);
    for v in finite {
        let a = v.abs().to_f64().unwrap_or(0.0);
        max = max.max(a);
        if a > 0.0 {
            min_nonzero = min_nonzero.min(a);
        }
        whole &= v.fract() == E::zero();
    }
    if max >= 1e8 || (min_nonzero < 1e-4 && max > 0.0) {
        Style::Sci
    } else if whole {
        Style::Whole
    } else {
        Style::Fixed(4)
    }
}

fn format_elem<E: Element>(v: E, style: Style) -> String {
    match style {
        Style::Fixed(p) => format!("{v:.p$}"),
        Style::Whole if v.is_finite() => format!("{v:.1}"),
        Style::Sci if v.is_finite() => format!("{v:.4e}"),
        Style::Whole | Style::Sci => format!("{v}"),
    }
}

/// The indices shown along an axis of length `len`: all of them, or the edges with a gap marker.
fn shown(len: usize, elide: bool) -> Vec<Option<usize>> {
    if elide && len > 2 * EDGE {
        (0..EDGE)
            .map(Some)
            .chain([None])
            .chain((len - EDGE..len).map(Some))
            .collect()
    } else {
        (0..len).map(Some).collect()
    }
}

struct Body<'a> {
    cells: &'a [String],
    dims: &'a [usize],
    strides: &'a [usize],
    width: usize,
    elide: bool,
    /// Columns already used on the first line (`Tensor(` in `Debug`), repeated on continuation lines.
    indent: usize,
}

impl Body<'_> {
    fn write(&self, out: &mut dyn Write, axis: usize, offset: usize) -> fmt::Result {
        if axis == self.dims.len() {
            return write!(out, "{:>w$}", self.cells[offset], w = self.width);
        }
        out.write_char('[')?;
        let last_axis = axis + 1 == self.dims.len();
        // Blank lines between blocks grow with the depth left, as in numpy.
        let newlines = if last_axis {
            0
        } else {
            self.dims.len() - axis - 1
        };
        for (n, i) in shown(self.dims[axis], self.elide).into_iter().enumerate() {
            if n > 0 {
                out.write_char(',')?;
                if last_axis {
                    out.write_char(' ')?;
                } else {
                    for _ in 0..newlines {
                        out.write_char('\n')?;
                    }
                    write!(out, "{:w$}", "", w = self.indent + axis + 1)?;
                }
            }
            match i {
                Some(i) => self.write(out, axis + 1, offset + i * self.strides[axis])?,
                None => out.write_str("...")?,
            }
        }
        out.write_char(']')
    }
}

fn write_values<E: Element>(
    out: &mut dyn Write,
    dims: &[usize],
    data: &[E],
    precision: Option<usize>,
    indent: usize,
) -> fmt::Result {
    if data.is_empty() {
        return out.write_str("[]");
    }
    let elide = data.len() > THRESHOLD;
    let style = style_for(data, precision);
    // Only elements that will be shown are formatted, but all of them fix the width.
    let cells: Vec<String> = data.iter().map(|&v| format_elem(v, style)).collect();
    let strides = crate::shape::strides_of(dims);
    let mut width = 0;
    visit_shown(dims, &strides, elide, 0, 0, &mut |off| {
        width = width.max(cells[off].len());
    });
    Body {
        cells: &cells,
        dims,
        strides: &strides,
        width,
        elide,
        indent,
    }
    .write(out, 0, 0)
}

fn visit_shown(
    dims: &[usize],
    strides: &[usize],
    elide: bool,
    axis: usize,
    offset: usize,
    f: &mut dyn FnMut(usize),
) {
    if axis == dims.len() {
        return f(offset);
    }
    for i in shown(dims[axis], elide).into_iter().flatten() {
        visit_shown(
            dims,
            strides,
            elide,
            axis + 1,
            offset + i * strides[axis],
            f,
        );
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Display for Tensor<S, E, T> {
    /// The values as nested brackets, numpy style; `{:.2}` sets the digits after the point. A tensor
    /// with no elements prints `[]` and its shape, since the brackets alone do not tell `[0, 3]` from
    /// `[3, 0]` (numpy's `repr` adds it too, for every shape but `(0,)`).
    ///
    /// ```
    /// use shaped::{Const, Tensor};
    /// let t = Tensor::from([[1.0, -2.5], [3.0, 4.0]]);
    /// assert_eq!(t.to_string(), "[[ 1.0000, -2.5000],\n [ 3.0000,  4.0000]]");
    /// assert_eq!(format!("{t:.1}"), "[[ 1.0, -2.5],\n [ 3.0,  4.0]]");
    /// assert_eq!(Tensor::from([1.0, 2.0, 3.0]).to_string(), "[1.0, 2.0, 3.0]");
    /// assert_eq!(Tensor::from(7.0).to_string(), "7.0");
    /// let none: Tensor<(usize, Const<3>)> = Tensor::zeros_with((0, Const));
    /// assert_eq!(none.to_string(), "[], shape=[0, 3]");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let precision = f.precision();
        write_values(f, self.shape().as_ref(), self.as_slice(), precision, 0)?;
        if self.numel() == 0 {
            write!(f, ", shape={:?}", self.shape().as_ref())?;
        }
        Ok(())
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> fmt::Debug for Tensor<S, E, T> {
    /// The values with the shape, the element type and, for a tensor on a tape, `tape`.
    ///
    /// ```
    /// use shaped::{Rank1, Tensor};
    /// let t = Tensor::from([[1.0_f32, 2.0], [3.0, 4.0]]);
    /// assert_eq!(format!("{t:?}"), "Tensor([[1.0, 2.0],\n        [3.0, 4.0]], shape=[2, 2], dtype=f32)");
    /// // Large tensors show the edges of each axis.
    /// let big = Tensor::<Rank1<2000>>::from_fn(|[i]| i as f32);
    /// assert_eq!(format!("{big:?}"), "Tensor([   0.0,    1.0,    2.0, ..., 1997.0, 1998.0, 1999.0], shape=[2000], dtype=f32)");
    /// // Run-time dimensions print the same way.
    /// let rows: Tensor<(usize, shaped::Const<2>)> = Tensor::ones_with((3, shaped::Const));
    /// assert_eq!(format!("{rows:?}"), "Tensor([[1.0, 1.0],\n        [1.0, 1.0],\n        [1.0, 1.0]], shape=[3, 2], dtype=f32)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const OPEN: &str = "Tensor(";
        f.write_str(OPEN)?;
        let precision = f.precision();
        write_values(
            f,
            self.shape().as_ref(),
            self.as_slice(),
            precision,
            OPEN.len(),
        )?;
        write!(f, ", shape={:?}, dtype={}", self.shape().as_ref(), E::NAME)?;
        if T::RECORDS {
            f.write_str(", tape")?;
        }
        f.write_char(')')
    }
}

#[cfg(test)]
mod tests {
    use crate::{Const, Rank2, Rank3, Tape, Tensor};

    #[test]
    fn rank3_blocks_are_separated_by_a_blank_line() {
        let t = Tensor::from([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]);
        assert_eq!(
            t.to_string(),
            "[[[1.0, 2.0],\n  [3.0, 4.0]],\n\n [[5.0, 6.0],\n  [7.0, 8.0]]]"
        );
    }

    #[test]
    fn large_matrices_elide_rows_and_columns() {
        let t = Tensor::<Rank2<40, 40>>::from_fn(|[i, j]| (i * 40 + j) as f32);
        let s = t.to_string();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 7);
        assert_eq!(
            lines[0],
            "[[   0.0,    1.0,    2.0, ...,   37.0,   38.0,   39.0],"
        );
        assert_eq!(lines[3], " ...,");
        assert_eq!(
            lines[6],
            " [1560.0, 1561.0, 1562.0, ..., 1597.0, 1598.0, 1599.0]]"
        );
    }

    #[test]
    fn tiny_and_huge_values_switch_to_scientific_notation() {
        let t = Tensor::from([1e-6, 1.0]);
        assert_eq!(t.to_string(), "[1.0000e-6,  1.0000e0]");
        let t = Tensor::from([f64::NAN, f64::INFINITY, -1.5]);
        assert_eq!(t.to_string(), "[    NaN,     inf, -1.5000]");
    }

    #[test]
    fn debug_marks_a_tensor_on_a_tape() {
        let tape = Tape::new();
        let t = tape.input(&Tensor::from([1.0]));
        assert_eq!(
            format!("{t:?}"),
            "Tensor([1.0], shape=[1], dtype=f64, tape)"
        );
        let empty: Tensor<Rank3<2, 0, 3>> = Tensor::zeros();
        assert_eq!(
            format!("{empty:?}"),
            "Tensor([], shape=[2, 0, 3], dtype=f32)"
        );
    }

    #[test]
    fn display_names_the_shape_of_a_tensor_with_no_elements() {
        let rows: Tensor<(usize, Const<3>)> = Tensor::zeros_with((0, Const));
        assert_eq!(rows.to_string(), "[], shape=[0, 3]");
        assert_eq!(format!("{rows:.2}"), "[], shape=[0, 3]");
        let cols: Tensor<(Const<3>, usize)> = Tensor::zeros_with((Const, 0));
        assert_eq!(cols.to_string(), "[], shape=[3, 0]");
        let static_empty: Tensor<Rank3<2, 0, 3>, f64> = Tensor::zeros();
        assert_eq!(static_empty.to_string(), "[], shape=[2, 0, 3]");
        // On a tape, and in `Debug`, which names the shape once.
        let tape = Tape::new();
        let taped = tape.input(&static_empty);
        assert_eq!(taped.to_string(), "[], shape=[2, 0, 3]");
        assert_eq!(
            format!("{taped:?}"),
            "Tensor([], shape=[2, 0, 3], dtype=f64, tape)"
        );
        // A tensor with elements prints as before.
        let one: Tensor<(usize, Const<2>)> = Tensor::ones_with((1, Const));
        assert_eq!(one.to_string(), "[[1.0, 1.0]]");
    }
}
