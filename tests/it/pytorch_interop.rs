//! Interchange with PyTorch through safetensors, both directions, for the digits MLP
//! (`examples/digits.rs`): PyTorch's `nn.Linear(64, 64)`, ReLU, `nn.Linear(64, 10)` in attributes `l1`
//! and `l2` has the `state_dict` names `l1.weight`, `l1.bias`, `l2.weight`, `l2.bias`, the crate's
//! field paths.
//!
//! `tests/data/mlp_torch.safetensors` and `tests/data/mlp_torch_logits.csv` were written by
//! `python3 scripts/pytorch_mlp.py export` (PyTorch 2.15, float32); these tests need no Python. The
//! other direction: `crate_model_is_written_with_pytorch_names_and_layout` writes the crate's model
//! and its logits under `target/tmp/pytorch_interop/`, and `python3 scripts/pytorch_mlp.py check`
//! loads that file with `load_state_dict(strict=True)` and compares.

use std::io::Read as _;
use std::path::PathBuf;

use shaped::data::Dataset;
use shaped::nn::{Labels, Linear, cross_entropy};
use shaped::optim::{Adam, Optimizer};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Const, Module, NoTape, Rank2, Tensor, Tracking};

/// Logits may differ by float32 rounding (a different summation order), no more.
const TOLERANCE: f32 = 1e-5;
const ROWS: usize = 16;

#[derive(Module)]
struct Mlp<T: Tracking<f32> = NoTape> {
    l1: Linear<64, 64, f32, T>,
    l2: Linear<64, 10, f32, T>,
}

impl Mlp {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        Mlp {
            l1: Linear::new(&mut rng),
            l2: Linear::new(&mut rng),
        }
    }
}

impl<T: Tracking<f32>> Mlp<T> {
    fn forward<const B: usize>(&self, x: Tensor<Rank2<B, 64>>) -> Tensor<Rank2<B, 10>, f32, T> {
        self.l2.forward(self.l1.forward(x).relu())
    }
}

fn manifest_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// `examples/data/digits.csv.gz` in file order, pixels / 16, as the script reads it.
fn digits() -> Dataset<64, 10> {
    let gz = std::fs::read(manifest_path("examples/data/digits.csv.gz")).unwrap();
    let mut csv = String::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_string(&mut csv)
        .unwrap();
    Dataset::from_csv(&csv, false)
        .unwrap()
        .map_features(|v| v / 16.0)
}

/// The first `ROWS` images and their labels.
fn first_digits() -> (Tensor<Rank2<ROWS, 64>>, Labels<Const<ROWS>, 10>) {
    digits().batches::<ROWS, f32>().next().unwrap()
}

/// The logits of a CSV of lines `row,label,logit0,...,logit9` (lines starting with `#` skipped).
fn read_logits(text: &str) -> Vec<[f32; 10]> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let v: Vec<f32> = l.split(',').skip(2).map(|s| s.parse().unwrap()).collect();
            v.try_into().expect("10 logits a line")
        })
        .collect()
}

fn argmax(row: &[f32]) -> usize {
    (0..row.len()).fold(0, |best, c| if row[c] > row[best] { c } else { best })
}

#[test]
fn a_pytorch_state_dict_loads_and_predicts_the_same_logits() {
    let mut model = Mlp::new(1);
    model
        .load(manifest_path("tests/data/mlp_torch.safetensors"))
        .unwrap();
    let expected = read_logits(
        &std::fs::read_to_string(manifest_path("tests/data/mlp_torch_logits.csv")).unwrap(),
    );
    assert_eq!(expected.len(), ROWS);

    let logits = model.forward(first_digits().0).to_array();
    let mut worst = 0.0_f32;
    for (i, (got, want)) in logits.iter().zip(&expected).enumerate() {
        assert_eq!(
            argmax(got),
            argmax(want),
            "row {i}: {got:?} vs PyTorch's {want:?}"
        );
        for (g, w) in got.iter().zip(want) {
            worst = worst.max((g - w).abs());
        }
    }
    println!("max |logit - PyTorch's| = {worst:e}");
    assert!(
        worst <= TOLERANCE,
        "logits differ from PyTorch's by up to {worst}"
    );
}

#[test]
fn crate_model_is_written_with_pytorch_names_and_layout() {
    // A briefly trained model (one epoch), so that its predictions mean something.
    let mut model = Mlp::new(7);
    let mut opt = Adam::new(&model, 0.01);
    for (x, labels) in digits()
        .shuffled(&mut StdRng::seed_from_u64(7))
        .batches::<32, f32>()
    {
        let (_, grads): (f32, MlpGrads) =
            model.value_and_grad(|m| cross_entropy(&m.forward(x), &labels));
        opt.step(&mut model, &grads);
    }
    let bytes = model.to_safetensors();

    // What `load_state_dict` needs: PyTorch's names, shapes `[out, in]` and `[out]`, float32.
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(names, ["l1.bias", "l1.weight", "l2.bias", "l2.weight"]);
    for (name, shape) in [
        ("l1.weight", &[64, 64][..]),
        ("l1.bias", &[64]),
        ("l2.weight", &[10, 64]),
        ("l2.bias", &[10]),
    ] {
        let t = file.tensor(name).unwrap();
        assert_eq!(
            (t.dtype(), t.shape()),
            (safetensors::Dtype::F32, shape),
            "{name}"
        );
    }
    // Row-major, little-endian: element [1, 0] of l2.weight is the 65th float.
    let w = file.tensor("l2.weight").unwrap();
    let at_1_0 = f32::from_le_bytes(w.data()[64 * 4..65 * 4].try_into().unwrap());
    assert_eq!(at_1_0, model.l2.weight[[1, 0]]);

    // The file and the logits it gives, for `python3 scripts/pytorch_mlp.py check`.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pytorch_interop");
    std::fs::create_dir_all(&dir).unwrap();
    model.save(dir.join("mlp_shaped.safetensors")).unwrap();
    let mut csv = String::from(
        "# logits of the first 16 rows of examples/data/digits.csv.gz (pixels / 16)\n# row,label,logit0,...,logit9\n",
    );
    let (x, labels) = first_digits();
    let logits = model.forward(x).to_array();
    for (i, (row, label)) in logits.iter().zip(labels.as_slice()).enumerate() {
        let values: Vec<String> = row.iter().map(f32::to_string).collect();
        csv += &format!("{i},{label},{}\n", values.join(","));
    }
    let right = logits
        .iter()
        .zip(labels.as_slice())
        .filter(|(row, label)| argmax(&row[..]) == **label)
        .count();
    assert!(right >= 14, "{right} of 16 right after one epoch");
    std::fs::write(dir.join("mlp_shaped_logits.csv"), csv).unwrap();

    // And it loads back bit for bit.
    let mut back = Mlp::new(8);
    back.load(dir.join("mlp_shaped.safetensors")).unwrap();
    assert_eq!(back.to_safetensors(), bytes);
}
