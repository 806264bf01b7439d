//! Labelled data sets from CSV, and fixed-size batches of them as tensors.
//!
//! A [`Dataset<F, C>`] holds rows of `F` features and a class id below `C`, read from CSV text whose
//! last column is the class. Reading checks every row and reports the first bad one by line and column;
//! [`Dataset::batches`] cuts the rows into static `Tensor<Rank2<B, F>>` batches with their
//! [`Labels`], and [`Dataset::batches_of`] and [`Dataset::all`] into batches whose number of rows is
//! known at run time, `Tensor<(usize, Const<F>)>`, the last partial batch included.
//!
//! ```
//! use shaped::data::Dataset;
//!
//! let csv = "5.1,3.5,0\n6.2,2.9,1\n5.9,3.0,2\n";
//! let data = Dataset::<2, 3>::from_csv(csv, false)?;
//! assert_eq!(data.len(), 3);
//! assert_eq!(data.labels(), &[0, 1, 2]);
//!
//! let err = Dataset::<2, 3>::from_csv("5.1,3.5,0\n6.2,x,1\n", false).unwrap_err();
//! assert_eq!(err.to_string(), "line 2, column 2: cannot read `x` as a number");
//! # Ok::<(), shaped::Error>(())
//! ```

use rand::Rng;
use rand::seq::SliceRandom;

use crate::error::{Error, ErrorKind};
use crate::nn::{ClassScores, Labels};
use crate::{Const, Dim, Element, Rank2, Tensor};

/// Rows of `F` features, each with a class id below `C`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<const F: usize, const C: usize> {
    features: Vec<[f64; F]>,
    labels: Vec<usize>,
}

impl<const F: usize, const C: usize> Dataset<F, C> {
    /// Reads CSV text: each non-empty line holds `F` numbers and then a class id (a whole number below
    /// `C`). With `has_header`, the first line is skipped.
    ///
    /// # Errors
    /// The first bad line, by number (from 1, counting the header): a wrong number of columns
    /// ([`ErrorKind::Length`]), a field that is not a number ([`ErrorKind::Parse`]), or a class id
    /// that is not a whole number below `C` ([`ErrorKind::OutOfRange`]).
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// let err = Dataset::<2, 3>::from_csv("1,2,3\n", false).unwrap_err();
    /// assert_eq!(err.to_string(), "line 1: class id 3 is out of range: there are 3 classes (0 to 2)");
    /// let err = Dataset::<2, 3>::from_csv("1,2\n", false).unwrap_err();
    /// assert_eq!(err.to_string(), "line 1: expected 3 columns (2 features and a class), found 2");
    /// ```
    pub fn from_csv(text: &str, has_header: bool) -> Result<Self, Error> {
        let mut features = Vec::new();
        let mut labels = Vec::new();
        for (i, line) in text.lines().enumerate().skip(usize::from(has_header)) {
            let line_no = i + 1;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != F + 1 {
                return Err(Error::new(
                    ErrorKind::Length,
                    format!(
                        "line {line_no}: expected {} columns ({F} features and a class), found {}",
                        F + 1,
                        fields.len()
                    ),
                ));
            }
            let mut row = [0.0; F];
            for (j, (slot, field)) in row.iter_mut().zip(&fields).enumerate() {
                *slot = parse_number(field, line_no, j + 1)?;
            }
            let class = parse_number(fields[F], line_no, F + 1)?;
            if class.fract() != 0.0 || class < 0.0 || class >= C as f64 {
                return Err(Error::new(
                    ErrorKind::OutOfRange,
                    format!(
                        "line {line_no}: class id {} is out of range: {}",
                        fields[F],
                        crate::nn::classes_str(C)
                    ),
                ));
            }
            features.push(row);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            labels.push(class as usize);
        }
        Ok(Self { features, labels })
    }

    /// The number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The class ids, in row order.
    #[must_use]
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The feature rows, in row order.
    #[must_use]
    pub fn features(&self) -> &[[f64; F]] {
        &self.features
    }

    /// Applies `f` to every feature value (scaling, say).
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// let data = Dataset::<2, 2>::from_csv("16,8,1\n", false)?.map_features(|v| v / 16.0);
    /// assert_eq!(data.features(), &[[1.0, 0.5]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn map_features(mut self, f: impl Fn(f64) -> f64) -> Self {
        for row in &mut self.features {
            for v in row.iter_mut() {
                *v = f(*v);
            }
        }
        self
    }

    /// The rows in a random order drawn from `rng`.
    #[must_use]
    pub fn shuffled<R: Rng + ?Sized>(mut self, rng: &mut R) -> Self {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(rng);
        self.features = order.iter().map(|&i| self.features[i]).collect();
        self.labels = order.iter().map(|&i| self.labels[i]).collect();
        self
    }

    /// Splits off the last `fraction` of the rows (rounded to the nearest row): `(first, last)`.
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// let data = Dataset::<1, 2>::from_csv("0,0\n1,1\n2,0\n3,1\n4,0\n", false)?;
    /// let (train, test) = data.split(0.4);
    /// assert_eq!((train.len(), test.len()), (3, 2));
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn split(mut self, fraction: f64) -> (Self, Self) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let tail = ((self.len() as f64) * fraction.clamp(0.0, 1.0)).round() as usize;
        let at = self.len() - tail;
        let rest = Self {
            features: self.features.split_off(at),
            labels: self.labels.split_off(at),
        };
        (self, rest)
    }

    /// The rows as consecutive batches of `B`, as tensors with their labels. A last partial batch is
    /// left out (see [`Dataset::remainder`]).
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// use shaped::{Rank2, Tensor};
    /// let data = Dataset::<2, 2>::from_csv("1,2,0\n3,4,1\n5,6,1\n", false)?;
    /// let batches: Vec<(Tensor<Rank2<2, 2>>, _)> = data.batches::<2, f32>().collect();
    /// assert_eq!(batches.len(), 1);
    /// assert_eq!(batches[0].0.to_array(), [[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(batches[0].1.as_slice(), &[0, 1]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn batches<const B: usize, E: Element>(
        &self,
    ) -> impl Iterator<Item = (Tensor<Rank2<B, F>, E>, Labels<Const<B>, C>)> + '_ {
        let count = self.len().checked_div(B).unwrap_or(0);
        (0..count).map(move |k| self.rows(Rank2, k * B))
    }

    /// The rows a batching by `B` leaves out, one at a time, as batches of one.
    pub fn remainder<const B: usize, E: Element>(
        &self,
    ) -> impl Iterator<Item = (Tensor<Rank2<1, F>, E>, Labels<Const<1>, C>)> + '_ {
        let start = self.len().checked_div(B).unwrap_or(0) * B;
        (start..self.len()).map(move |i| self.rows(Rank2, i))
    }

    /// The rows as consecutive batches of `size` rows whose count is known at run time, the last one
    /// holding what is left (so every row is in exactly one batch).
    ///
    /// # Panics
    /// If `size` is 0.
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// let data = Dataset::<2, 2>::from_csv("1,2,0\n3,4,1\n5,6,1\n", false)?;
    /// let sizes: Vec<[usize; 2]> = data.batches_of::<f32>(2).map(|(x, _)| x.shape()).collect();
    /// assert_eq!(sizes, [[2, 2], [1, 2]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn batches_of<E: Element>(
        &self,
        size: usize,
    ) -> impl Iterator<Item = (Tensor<(usize, Const<F>), E>, Labels<usize, C>)> + '_ {
        assert!(size > 0, "batches_of: a batch needs at least one row");
        (0..self.len())
            .step_by(size)
            .map(move |start| self.rows((size.min(self.len() - start), Const), start))
    }

    /// Every row in one batch whose number of rows is known at run time, with its labels.
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// let data = Dataset::<2, 2>::from_csv("1,2,0\n3,4,1\n5,6,1\n", false)?;
    /// let (x, labels) = data.all::<f64>();
    /// assert_eq!(x.shape(), [3, 2]);
    /// assert_eq!(labels.as_slice(), &[0, 1, 1]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn all<E: Element>(&self) -> (Tensor<(usize, Const<F>), E>, Labels<usize, C>) {
        self.rows((self.len(), Const), 0)
    }

    /// The rows from `start` that make a tensor of shape `shape`, with their labels.
    fn rows<S, B, E>(&self, shape: S, start: usize) -> (Tensor<S, E>, Labels<B, C>)
    where
        S: ClassScores<F, Batch = B>,
        B: Dim,
        E: Element,
    {
        let n = shape.batch().size();
        let data = self.features[start..start + n]
            .iter()
            .flatten()
            .map(|&v| E::from_f64_lossy(v))
            .collect();
        let labels = Labels::from_slice(&self.labels[start..start + n])
            .expect("labels were checked when read");
        (Tensor::from_data_with(shape, data), labels)
    }
}

fn parse_number(field: &str, line: usize, column: usize) -> Result<f64, Error> {
    field.parse::<f64>().map_err(|_| {
        Error::new(
            ErrorKind::Parse,
            format!("line {line}, column {column}: cannot read `{field}` as a number"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_skipped_and_blank_lines_ignored() {
        let d = Dataset::<2, 3>::from_csv("150,4,setosa\n1,2,0\n\n3,4,2\n", true).unwrap();
        assert_eq!(d.features(), &[[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(d.labels(), &[0, 2]);
    }

    #[test]
    fn a_fractional_or_negative_class_is_refused() {
        let e = Dataset::<1, 3>::from_csv("1,0.5\n", false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::OutOfRange);
        assert_eq!(
            e.to_string(),
            "line 1: class id 0.5 is out of range: there are 3 classes (0 to 2)"
        );
        let e = Dataset::<1, 3>::from_csv("h\n1,-1\n", true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: class id -1 is out of range: there are 3 classes (0 to 2)"
        );
    }

    #[test]
    fn batches_and_remainder_cover_every_row_once() {
        let text: String = (0..7)
            .map(|i| format!("{i},{}\n", i % 2))
            .collect::<Vec<_>>()
            .concat();
        let d = Dataset::<1, 2>::from_csv(&text, false).unwrap();
        let mut seen: Vec<f64> = d
            .batches::<3, f64>()
            .flat_map(|(x, _)| x.to_vec())
            .collect();
        seen.extend(d.remainder::<3, f64>().flat_map(|(x, _)| x.to_vec()));
        assert_eq!(seen, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let labels: Vec<usize> = d
            .remainder::<3, f64>()
            .map(|(_, l)| l.as_slice()[0])
            .collect();
        assert_eq!(labels, vec![0]);
    }

    #[test]
    fn shuffling_keeps_rows_with_their_labels() {
        let text: String = (0..20)
            .map(|i| format!("{i},{}\n", i % 4))
            .collect::<Vec<_>>()
            .concat();
        let d = Dataset::<1, 4>::from_csv(&text, false).unwrap();
        let s = d.clone().shuffled(&mut crate::ops::testing::rng(3));
        assert_ne!(s.features(), d.features());
        for (row, &label) in s.features().iter().zip(s.labels()) {
            assert_eq!(row[0] % 4.0, label as f64);
        }
    }
}
