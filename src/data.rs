//! Data sets from CSV, and batches of them as tensors.
//!
//! A [`Dataset<F, C>`] holds rows of `F` features and a class id below `C`, read from CSV text whose
//! last column is the class. Reading checks every row and reports the first bad one by line and column;
//! [`Dataset::batches`] cuts the rows into static `Tensor<Rank2<B, F>>` batches with their
//! [`Labels`], and [`Dataset::batches_of`] and [`Dataset::all`] into batches whose number of rows is
//! known at run time, `Tensor<(usize, Const<F>)>`, the last partial batch included. A
//! [`Regression<F, O>`] holds rows of `F` features and `O` real-valued targets, read, shuffled, split
//! and batched the same way, with the targets as a second tensor.
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

use std::io::Read as _;
use std::path::Path;

use rand::Rng;
use rand::seq::SliceRandom;

use crate::error::{Error, ErrorKind};
use crate::nn::{ClassScores, Labels};
use crate::{Const, Dim, Element, Rank2, Shape, Tensor};

/// Rows of `F` features, each with a class id below `C`.
///
/// ```
/// use shaped::data::Dataset;
/// use shaped::{Rank2, Tensor};
/// // Two features, three classes; read from CSV, scaled, cut into batches of 2.
/// let data = Dataset::<2, 3>::from_csv("2,4,0\n6,8,2\n", false)?.map_features(|v| v / 2.0);
/// let (x, labels): (Tensor<Rank2<2, 2>>, _) = data.batches().next().unwrap();
/// assert_eq!(x.to_array(), [[1.0, 2.0], [3.0, 4.0]]);
/// assert_eq!(labels.as_slice(), &[0, 2]);
/// # Ok::<(), shaped::Error>(())
/// ```
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
        let (features, labels) = read_rows(text, has_header, 1, "a class", |fields, line_no| {
            let class = parse_number(fields[0], line_no, F + 1)?;
            if class.fract() != 0.0 || class < 0.0 || class >= C as f64 {
                return Err(Error::new(
                    ErrorKind::OutOfRange,
                    format!(
                        "line {line_no}: class id {} is out of range: {}",
                        fields[0],
                        crate::nn::classes_str(C)
                    ),
                ));
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(class as usize)
        })?;
        Ok(Self { features, labels })
    }

    /// Reads a CSV file (see [`from_csv`](Dataset::from_csv)); a name ending in `.gz` is gunzipped
    /// first.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the file cannot be read or decompressed (a gzipped file whose text is
    /// not UTF-8 included), [`ErrorKind::Parse`] when a plain file is not UTF-8 text, and every
    /// error of [`from_csv`](Dataset::from_csv).
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/digits.csv.gz");
    /// let digits = Dataset::<64, 10>::read(path, false)?;
    /// assert_eq!(digits.len(), 1797);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn read(path: impl AsRef<Path>, has_header: bool) -> Result<Self, Error> {
        Self::from_csv(&read_text(path.as_ref())?, has_header)
    }

    /// The number of rows.
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// let data = Dataset::<1, 2>::from_csv("x,class\n0.5,1\n\n1.5,0\n", true)?;
    /// assert_eq!(data.len(), 2); // the header and the blank line are not rows
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no rows.
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// assert!(Dataset::<1, 2>::from_csv("x,class\n", true)?.is_empty());
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The class ids, in row order.
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// let data = Dataset::<1, 3>::from_csv("0.5,2\n1.5,0\n", false)?;
    /// assert_eq!(data.labels(), &[2, 0]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The feature rows, in row order.
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// let data = Dataset::<2, 3>::from_csv("0.5,1,2\n1.5,-1,0\n", false)?;
    /// assert_eq!(data.features(), &[[0.5, 1.0], [1.5, -1.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
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
        map_rows(&mut self.features, f);
        self
    }

    /// The rows in a random order drawn from `rng`, each with its label.
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// let data = Dataset::<1, 4>::from_csv("0,0\n1,1\n2,2\n3,3\n", false)?;
    /// let shuffled = data.shuffled(&mut StdRng::seed_from_u64(0));
    /// let mut seen = shuffled.labels().to_vec();
    /// for (row, &label) in shuffled.features().iter().zip(&seen) {
    ///     assert_eq!(row[0], label as f64); // rows keep their labels
    /// }
    /// seen.sort();
    /// assert_eq!(seen, [0, 1, 2, 3]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn shuffled<R: Rng + ?Sized>(mut self, rng: &mut R) -> Self {
        shuffle_rows(&mut self.features, &mut self.labels, rng);
        self
    }

    /// Splits off the last `fraction` of the rows (rounded to the nearest row; a fraction outside
    /// `[0, 1]` is clamped to it): `(first, last)`.
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
        let (features, labels) = split_rows(&mut self.features, &mut self.labels, fraction);
        (self, Self { features, labels })
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
    ///
    /// ```
    /// use shaped::data::Dataset;
    /// let data = Dataset::<1, 2>::from_csv("1,0\n2,1\n3,1\n", false)?;
    /// let rest: Vec<_> = data.remainder::<2, f32>().collect();
    /// assert_eq!(rest.len(), 1); // row 3 is not in the one batch of 2
    /// assert_eq!(rest[0].0.to_array(), [[3.0]]);
    /// assert_eq!(rest[0].1.as_slice(), &[1]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
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

/// A batch of features and targets whose number of rows is known at run time: what
/// [`Regression::batches_of`] and [`Regression::all`] give.
///
/// ```
/// use shaped::data::{Regression, RunTimeBatch};
/// let data = Regression::<2, 1>::from_csv("1,2,0.5\n", false)?;
/// let (x, y): RunTimeBatch<2, 1, f64> = data.all();
/// assert_eq!((x.to_vec(), y.to_vec()), (vec![1.0, 2.0], vec![0.5]));
/// # Ok::<(), shaped::Error>(())
/// ```
pub type RunTimeBatch<const F: usize, const O: usize, E> =
    (Tensor<(usize, Const<F>), E>, Tensor<(usize, Const<O>), E>);

/// Rows of `F` features, each with `O` real-valued targets: a regression data set. Reading, shuffling,
/// splitting and batching work as for [`Dataset`]; the targets come out as a tensor `[rows, O]`.
///
/// ```
/// use shaped::data::Regression;
/// use shaped::{Rank2, Tensor};
/// let data = Regression::<2, 1>::from_csv("x1,x2,y\n1,2,0.5\n3,4,1.5\n", true)?;
/// assert_eq!(data.targets(), &[[0.5], [1.5]]);
/// let (x, y): (Tensor<Rank2<2, 2>>, Tensor<Rank2<2, 1>>) = data.batches::<2, f32>().next().unwrap();
/// assert_eq!(x.to_array(), [[1.0, 2.0], [3.0, 4.0]]);
/// assert_eq!(y.to_array(), [[0.5], [1.5]]);
/// # Ok::<(), shaped::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Regression<const F: usize, const O: usize> {
    features: Vec<[f64; F]>,
    targets: Vec<[f64; O]>,
}

impl<const F: usize, const O: usize> Regression<F, O> {
    /// Reads CSV text: each non-empty line holds `F` numbers and then `O` targets. With `has_header`,
    /// the first line is skipped.
    ///
    /// # Errors
    /// The first bad line, by number: a wrong number of columns ([`ErrorKind::Length`]) or a field that
    /// is not a number ([`ErrorKind::Parse`]).
    ///
    /// ```
    /// use shaped::data::Regression;
    /// let err = Regression::<2, 2>::from_csv("1,2,3\n", false).unwrap_err();
    /// assert_eq!(err.to_string(), "line 1: expected 4 columns (2 features and 2 targets), found 3");
    /// ```
    pub fn from_csv(text: &str, has_header: bool) -> Result<Self, Error> {
        let what = if O == 1 {
            "1 target".to_owned()
        } else {
            format!("{O} targets")
        };
        let (features, targets) = read_rows(text, has_header, O, &what, |fields, line_no| {
            let mut y = [0.0; O];
            for (j, (slot, field)) in y.iter_mut().zip(fields).enumerate() {
                *slot = parse_number(field, line_no, F + j + 1)?;
            }
            Ok(y)
        })?;
        Ok(Self { features, targets })
    }

    /// Reads a CSV file, gunzipped first when its name ends in `.gz`.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the file cannot be read or decompressed (a gzipped file whose text is
    /// not UTF-8 included), [`ErrorKind::Parse`] when a plain file is not UTF-8 text, and every
    /// error of [`from_csv`](Regression::from_csv).
    ///
    /// ```
    /// use shaped::data::Regression;
    /// use shaped::ErrorKind;
    /// let path = std::env::temp_dir().join("shaped_doc_regression_read.csv");
    /// std::fs::write(&path, "x,y\n1,10\n2,20\n")?;
    /// let data = Regression::<1, 1>::read(&path, true)?;
    /// assert_eq!(data.targets(), &[[10.0], [20.0]]);
    /// std::fs::write(&path, b"1,\xff\n")?;
    /// assert_eq!(Regression::<1, 1>::read(&path, false).unwrap_err().kind(), ErrorKind::Parse);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(path: impl AsRef<Path>, has_header: bool) -> Result<Self, Error> {
        Self::from_csv(&read_text(path.as_ref())?, has_header)
    }

    /// The number of rows.
    ///
    /// ```
    /// use shaped::data::Regression;
    /// let data = Regression::<1, 2>::from_csv("0.5,1,2\n\n1.5,3,4\n", false)?;
    /// assert_eq!(data.len(), 2);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are no rows.
    ///
    /// ```
    /// use shaped::data::Regression;
    /// assert!(Regression::<1, 1>::from_csv("", false)?.is_empty());
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The feature rows, in row order.
    ///
    /// ```
    /// use shaped::data::Regression;
    /// let data = Regression::<2, 1>::from_csv("1,2,0.5\n3,4,1.5\n", false)?;
    /// assert_eq!(data.features(), &[[1.0, 2.0], [3.0, 4.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn features(&self) -> &[[f64; F]] {
        &self.features
    }

    /// The target rows, in row order.
    ///
    /// ```
    /// use shaped::data::Regression;
    /// let data = Regression::<1, 2>::from_csv("1,2,0.5\n3,4,1.5\n", false)?;
    /// assert_eq!(data.targets(), &[[2.0, 0.5], [4.0, 1.5]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn targets(&self) -> &[[f64; O]] {
        &self.targets
    }

    /// Applies `f` to every feature value (the targets are left as they are).
    ///
    /// ```
    /// use shaped::data::Regression;
    /// let data = Regression::<1, 1>::from_csv("4,8\n", false)?.map_features(|v| v / 4.0);
    /// assert_eq!((data.features(), data.targets()), (&[[1.0]][..], &[[8.0]][..]));
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn map_features(mut self, f: impl Fn(f64) -> f64) -> Self {
        map_rows(&mut self.features, f);
        self
    }

    /// Applies `f` to every target value (standardizing, say; the features are left as they are).
    ///
    /// ```
    /// use shaped::data::Regression;
    /// let data = Regression::<1, 1>::from_csv("4,8\n", false)?.map_targets(|v| v - 10.0);
    /// assert_eq!((data.features(), data.targets()), (&[[4.0]][..], &[[-2.0]][..]));
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn map_targets(mut self, f: impl Fn(f64) -> f64) -> Self {
        map_rows(&mut self.targets, f);
        self
    }

    /// The rows in a random order drawn from `rng`, each with its targets.
    ///
    /// ```
    /// use shaped::data::Regression;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// let data = Regression::<1, 1>::from_csv("0,0\n1,10\n2,20\n3,30\n", false)?;
    /// let shuffled = data.shuffled(&mut StdRng::seed_from_u64(0));
    /// for (x, y) in shuffled.features().iter().zip(shuffled.targets()) {
    ///     assert_eq!(y[0], 10.0 * x[0]); // rows keep their targets
    /// }
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn shuffled<R: Rng + ?Sized>(mut self, rng: &mut R) -> Self {
        shuffle_rows(&mut self.features, &mut self.targets, rng);
        self
    }

    /// Splits off the last `fraction` of the rows (rounded to the nearest row; a fraction outside
    /// `[0, 1]` is clamped to it): `(first, last)`.
    ///
    /// ```
    /// use shaped::data::Regression;
    /// let data = Regression::<1, 1>::from_csv("0,0\n1,10\n2,20\n3,30\n", false)?;
    /// let (train, test) = data.split(0.25);
    /// assert_eq!((train.len(), test.len()), (3, 1));
    /// assert_eq!(test.targets(), &[[30.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn split(mut self, fraction: f64) -> (Self, Self) {
        let (features, targets) = split_rows(&mut self.features, &mut self.targets, fraction);
        (self, Self { features, targets })
    }

    /// The rows as consecutive static batches of `B`, features and targets; a last partial batch is
    /// left out.
    ///
    /// ```
    /// use shaped::data::Regression;
    /// use shaped::{Rank2, Tensor};
    /// let data = Regression::<1, 1>::from_csv("0,0\n1,10\n2,20\n", false)?;
    /// let batches: Vec<(Tensor<Rank2<2, 1>>, Tensor<Rank2<2, 1>>)> = data.batches().collect();
    /// assert_eq!(batches.len(), 1); // the third row is left out
    /// assert_eq!(batches[0].1.to_array(), [[0.0], [10.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn batches<const B: usize, E: Element>(
        &self,
    ) -> impl Iterator<Item = (Tensor<Rank2<B, F>, E>, Tensor<Rank2<B, O>, E>)> + '_ {
        let count = self.len().checked_div(B).unwrap_or(0);
        (0..count).map(move |k| self.rows(Rank2, Rank2, k * B))
    }

    /// The rows as consecutive batches of `size` rows whose count is known at run time, the last one
    /// holding what is left.
    ///
    /// # Panics
    /// If `size` is 0.
    ///
    /// ```
    /// use shaped::data::Regression;
    /// let data = Regression::<1, 1>::from_csv("0,0\n1,10\n2,20\n", false)?;
    /// let targets: Vec<Vec<f64>> = data.batches_of::<f64>(2).map(|(_, y)| y.to_vec()).collect();
    /// assert_eq!(targets, [vec![0.0, 10.0], vec![20.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn batches_of<E: Element>(
        &self,
        size: usize,
    ) -> impl Iterator<Item = RunTimeBatch<F, O, E>> + '_ {
        assert!(size > 0, "batches_of: a batch needs at least one row");
        (0..self.len()).step_by(size).map(move |start| {
            let n = size.min(self.len() - start);
            self.rows((n, Const), (n, Const), start)
        })
    }

    /// Every row in one batch whose number of rows is known at run time.
    ///
    /// ```
    /// use shaped::data::Regression;
    /// let data = Regression::<2, 1>::from_csv("1,2,0.5\n3,4,1.5\n5,6,2.5\n", false)?;
    /// let (x, y) = data.all::<f32>();
    /// assert_eq!((x.shape(), y.shape()), ([3, 2], [3, 1]));
    /// assert_eq!(y.to_vec(), vec![0.5, 1.5, 2.5]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn all<E: Element>(&self) -> RunTimeBatch<F, O, E> {
        self.rows((self.len(), Const), (self.len(), Const), 0)
    }

    fn rows<SX: Shape, SY: Shape, E: Element>(
        &self,
        x_shape: SX,
        y_shape: SY,
        start: usize,
    ) -> (Tensor<SX, E>, Tensor<SY, E>) {
        let n = x_shape.dims().as_ref()[0];
        let flat = |rows: &[f64]| rows.iter().map(|&v| E::from_f64_lossy(v)).collect();
        (
            Tensor::from_data_with(
                x_shape,
                flat(self.features[start..start + n].as_flattened()),
            ),
            Tensor::from_data_with(y_shape, flat(self.targets[start..start + n].as_flattened())),
        )
    }
}

/// Applies `f` to every value of every row.
fn map_rows<const N: usize>(rows: &mut [[f64; N]], f: impl Fn(f64) -> f64) {
    for v in rows.as_flattened_mut() {
        *v = f(*v);
    }
}

/// Puts features and targets in one random order.
fn shuffle_rows<X: Copy, Y: Copy, R: Rng + ?Sized>(x: &mut Vec<X>, y: &mut Vec<Y>, rng: &mut R) {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.shuffle(rng);
    *x = order.iter().map(|&i| x[i]).collect();
    *y = order.iter().map(|&i| y[i]).collect();
}

/// Splits off the last `fraction` of the rows of features and targets (rounded to the nearest
/// row), and returns them.
fn split_rows<X, Y>(x: &mut Vec<X>, y: &mut Vec<Y>, fraction: f64) -> (Vec<X>, Vec<Y>) {
    let len = x.len();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let tail = ((len as f64) * fraction.clamp(0.0, 1.0)).round() as usize;
    (x.split_off(len - tail), y.split_off(len - tail))
}

/// The text of a file, gunzipped when its name ends in `.gz`.
fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = crate::io::read_file(path)?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot decompress {}: {e}", path.display()),
                )
            })?;
        Ok(text)
    } else {
        String::from_utf8(bytes).map_err(|e| {
            Error::new(
                ErrorKind::Parse,
                format!("{} is not UTF-8 text: {e}", path.display()),
            )
        })
    }
}

/// Reads CSV rows of `F` features followed by `extra` target columns, which `target` turns into a
/// row's target (`what` names them in the message about a wrong column count).
fn read_rows<const F: usize, Y>(
    text: &str,
    has_header: bool,
    extra: usize,
    what: &str,
    mut target: impl FnMut(&[&str], usize) -> Result<Y, Error>,
) -> Result<(Vec<[f64; F]>, Vec<Y>), Error> {
    let mut features = Vec::new();
    let mut targets = Vec::new();
    for (i, line) in text.lines().enumerate().skip(usize::from(has_header)) {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != F + extra {
            return Err(Error::new(
                ErrorKind::Length,
                format!(
                    "line {line_no}: expected {} columns ({F} features and {what}), found {}",
                    F + extra,
                    fields.len()
                ),
            ));
        }
        let mut row = [0.0; F];
        for (j, (slot, field)) in row.iter_mut().zip(&fields).enumerate() {
            *slot = parse_number(field, line_no, j + 1)?;
        }
        targets.push(target(&fields[F..], line_no)?);
        features.push(row);
    }
    Ok((features, targets))
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
    fn regression_rows_keep_their_targets_through_shuffles_splits_and_batches() {
        // rows i, 2i, 10i for i in 0..9
        let text = "0,0,0\n1,2,10\n2,4,20\n3,6,30\n4,8,40\n5,10,50\n6,12,60\n7,14,70\n8,16,80\n";
        let d = Regression::<2, 1>::from_csv(text, false).unwrap();
        let s = d.clone().shuffled(&mut crate::ops::testing::rng(5));
        for (x, y) in s.features().iter().zip(s.targets()) {
            assert_eq!(y[0], 10.0 * x[0]);
        }
        let (train, test) = s.map_targets(|v| v / 10.0).split(1.0 / 3.0);
        assert_eq!((train.len(), test.len()), (6, 3));
        let sizes: Vec<usize> = train
            .batches_of::<f64>(4)
            .map(|(x, y)| {
                assert_eq!(
                    y.to_vec(),
                    x.to_vec().chunks(2).map(|r| r[0]).collect::<Vec<_>>()
                );
                x.shape()[0]
            })
            .collect();
        assert_eq!(sizes, [4, 2]);
        let (x, y) = test.all::<f32>();
        assert_eq!((x.shape(), y.shape()), ([3, 2], [3, 1]));
        assert_eq!(train.batches::<4, f32>().count(), 1);
        let err = Regression::<1, 1>::from_csv("1,x\n", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1, column 2: cannot read `x` as a number"
        );
    }

    #[test]
    fn gzipped_and_plain_files_read_the_same() {
        let dir = std::env::temp_dir().join(format!("shaped-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = "a,b,class\n1,2,0\n3,4,1\n";
        let plain = dir.join("d.csv");
        std::fs::write(&plain, text).unwrap();
        let gz = dir.join("d.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, text.as_bytes()).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let a = Dataset::<2, 2>::read(&plain, true).unwrap();
        let b = Dataset::<2, 2>::read(&gz, true).unwrap();
        assert_eq!(a, b);
        assert_eq!(b.labels(), &[0, 1]);
        let err = Dataset::<2, 2>::read(dir.join("missing.csv"), true).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn splits_keep_rows_with_their_targets_at_every_fraction() {
        // 3 rows: the last fraction * 3 rows, rounded (1.5 to 2), go to the second part; a
        // fraction outside [0, 1] is clamped.
        let data = Regression::<1, 1>::from_csv("0,10\n1,11\n2,12\n", false).unwrap();
        for (fraction, first) in [(0.0, 3), (0.5, 1), (1.0, 0), (2.0, 0), (-1.0, 3)] {
            let (a, b) = data.clone().split(fraction);
            assert_eq!(
                (a.len(), b.len()),
                (first, 3 - first),
                "fraction {fraction}"
            );
            for part in [&a, &b] {
                for (x, y) in part.features().iter().zip(part.targets()) {
                    assert_eq!(y[0], x[0] + 10.0);
                }
            }
        }
        let (a, b) = Dataset::<1, 2>::from_csv("0,0\n1,1\n", false)
            .unwrap()
            .split(0.5);
        assert_eq!((a.labels(), b.labels()), (&[0][..], &[1][..]));
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
