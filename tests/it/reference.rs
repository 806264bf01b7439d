//! Reading the reference fixtures that `scripts/reference_<group>.py` writes with PyTorch in float64
//! (`tests/data/reference/<group>.txt`), and checking the crate's values and gradients against them.
//! A module of the integration tests (`tests/it/`), shared by the `reference_*` modules.

#![allow(dead_code)]

use std::collections::HashMap;

use shaped::{Grads, Shape, Tape, Tensor};

/// One recorded case: its inputs, the op's output, the upstream gradient and the inputs' gradients.
#[derive(Debug, Default)]
pub struct Case {
    pub name: String,
    inputs: HashMap<String, (Vec<usize>, Vec<f64>)>,
    ints: HashMap<String, (Vec<usize>, Vec<i64>)>,
    out: (Vec<usize>, Vec<f64>),
    up: Option<(Vec<usize>, Vec<f64>)>,
    grads: HashMap<String, (Vec<usize>, Vec<f64>)>,
}

fn parse_dims(s: &str) -> Vec<usize> {
    if s == "-" {
        return Vec::new();
    }
    s.split(',')
        .map(|d| d.parse().expect("a dimension"))
        .collect()
}

/// Every case of a group, by name.
pub fn load(group: &str) -> HashMap<String, Case> {
    let path = format!(
        "{}/tests/data/reference/{group}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut cases = HashMap::new();
    let mut current: Option<Case> = None;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        if let Some(name) = line.strip_prefix("case ") {
            if let Some(c) = current.take() {
                cases.insert(c.name.clone(), c);
            }
            current = Some(Case {
                name: name.to_owned(),
                ..Case::default()
            });
            continue;
        }
        let c = current.as_mut().expect("a line inside a case");
        let (head, vals) = line
            .split_once(" : ")
            .unwrap_or((line.trim_end_matches(" :"), ""));
        let words: Vec<&str> = head.split(' ').collect();
        let floats = || -> Vec<f64> {
            vals.split_whitespace()
                .map(|v| v.parse().expect("a float"))
                .collect()
        };
        match words[0] {
            "in" => {
                c.inputs
                    .insert(words[1].to_owned(), (parse_dims(words[2]), floats()));
            }
            "int" => {
                let v = vals
                    .split_whitespace()
                    .map(|v| v.parse().expect("an integer"))
                    .collect();
                c.ints
                    .insert(words[1].to_owned(), (parse_dims(words[2]), v));
            }
            "out" => c.out = (parse_dims(words[1]), floats()),
            "up" => c.up = Some((parse_dims(words[1]), floats())),
            "grad" => {
                c.grads
                    .insert(words[1].to_owned(), (parse_dims(words[2]), floats()));
            }
            other => panic!("{path}: unknown line kind `{other}`"),
        }
    }
    if let Some(c) = current.take() {
        cases.insert(c.name.clone(), c);
    }
    cases
}

/// Whether `got` is within `1e-12 + rtol * |want|` of `want` everywhere (NaN matches NaN, an infinity
/// only itself), with a message naming the first element that is not.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], rtol: f64) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} values, want {}",
        got.len(),
        want.len()
    );
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            g == w
        } else {
            (g - w).abs() <= 1e-12 + rtol * w.abs()
        };
        assert!(ok, "{what}: element {i} is {g}, PyTorch gives {w}");
    }
}

impl Case {
    /// The float input `label`, as a tensor of shape `S` (its sizes must fit `S`).
    pub fn input<S: Shape>(&self, label: &str) -> Tensor<S, f64> {
        let (dims, v) = self
            .inputs
            .get(label)
            .unwrap_or_else(|| panic!("{}: no input `{label}`", self.name));
        Tensor::from_dims_vec(dims, v.clone())
            .unwrap_or_else(|e| panic!("{}: input `{label}`: {e}", self.name))
    }

    /// The integer input `label`, with its dimensions.
    pub fn ints(&self, label: &str) -> (&[usize], &[i64]) {
        let (dims, v) = self
            .ints
            .get(label)
            .unwrap_or_else(|| panic!("{}: no integer input `{label}`", self.name));
        (dims, v)
    }

    /// The upstream gradient, as a tensor of shape `S`.
    pub fn up<S: Shape>(&self) -> Tensor<S, f64> {
        let (dims, v) = self
            .up
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no upstream gradient", self.name));
        Tensor::from_dims_vec(dims, v.clone())
            .unwrap_or_else(|e| panic!("{}: upstream: {e}", self.name))
    }

    /// Checks an output against PyTorch's: the same dimensions, values within `rtol`.
    pub fn check_out<S: Shape, T: shaped::Tracking<f64>>(
        &self,
        got: &Tensor<S, f64, T>,
        rtol: f64,
    ) {
        assert_eq!(
            got.shape().as_ref(),
            self.out.0.as_slice(),
            "{}: output shape",
            self.name
        );
        assert_close(
            &format!("{}: output", self.name),
            got.as_slice(),
            &self.out.1,
            rtol,
        );
    }

    /// Checks an integer output (indices) against PyTorch's.
    pub fn check_out_ints(&self, dims: &[usize], got: &[usize]) {
        assert_eq!(dims, self.out.0.as_slice(), "{}: output shape", self.name);
        let want: Vec<usize> = self.out.1.iter().map(|&v| v as usize).collect();
        assert_eq!(got, want.as_slice(), "{}: output", self.name);
    }

    /// Checks the gradient of `sum(out * up)` with respect to the watched input `label`.
    pub fn check_grad<S: Shape>(
        &self,
        label: &str,
        grads: &Grads<f64>,
        watched: &Tensor<S, f64, Tape<f64>>,
        rtol: f64,
    ) {
        let (dims, want) = self
            .grads
            .get(label)
            .unwrap_or_else(|| panic!("{}: no gradient of `{label}`", self.name));
        let got = grads.get(watched);
        assert_eq!(
            got.shape().as_ref(),
            dims.as_slice(),
            "{}: gradient shape of `{label}`",
            self.name
        );
        assert_close(
            &format!("{}: gradient of `{label}`", self.name),
            got.as_slice(),
            want,
            rtol,
        );
    }
}
