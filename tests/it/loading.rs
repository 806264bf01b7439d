//! Loading parameters: every problem of a failed load at once, a non-strict load and its report, a
//! sub-model from a key prefix, and tensors stored by PyTorch in `f16` and `bf16`
//! (`tests/data/half_precision.safetensors`, written by `scripts/half_precision.py`).

use shaped::nn::Linear;
use shaped::{ErrorKind, LoadOptions, Module, NoTape, Rank1, Tensor, Tracking};

#[derive(Module)]
struct Two<T: Tracking<f32> = NoTape> {
    l1: Linear<3, 2, f32, T>,
    l2: Linear<3, 2, f32, T>,
}

fn two() -> Two {
    Two {
        l1: Linear::zeros(),
        l2: Linear::zeros(),
    }
}

fn file(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn half_precision_tensors_load_with_pytorchs_values() {
    // The values PyTorch prints for the stored halves, converted exactly to f64.
    let mut model = two();
    let report = model
        .load_safetensors_with(
            &file("half_precision.safetensors"),
            &LoadOptions::new().strict(false),
        )
        .unwrap();
    assert_eq!(report.unexpected, ["edges"]);
    assert!(report.missing.is_empty());
    // Every f16 and bf16 value is exact in f32, so the loaded values equal PyTorch's exactly.
    let exact = |t: Vec<f32>| t.into_iter().map(f64::from).collect::<Vec<_>>();
    assert_eq!(
        exact(model.l1.weight.to_vec()),
        [
            -0.004_322_052_001_953_125,
            0.309_814_453_125,
            -0.475_097_656_25,
            -0.424_804_687_5,
            -0.222_412_109_375,
            0.154_785_156_25
        ]
    );
    assert_eq!(
        exact(model.l1.bias.as_ref().unwrap().to_vec()),
        [-0.011_436_462_402_343_75, 0.457_763_671_875]
    );
    assert_eq!(
        exact(model.l2.weight.to_vec()),
        [
            -0.051_269_531_25,
            0.152_343_75,
            -0.174_804_687_5,
            -0.113_281_25,
            -0.550_781_25,
            -0.382_812_5
        ]
    );
    assert_eq!(
        exact(model.l2.bias.as_ref().unwrap().to_vec()),
        [-0.238_281_25, 0.021_362_304_687_5]
    );
    // A single tensor reads the same values.
    let w = Tensor::<shaped::Rank2<2, 3>>::from_safetensors(
        &file("half_precision.safetensors"),
        "l1.weight",
    )
    .unwrap();
    assert_eq!(w.to_vec(), model.l1.weight.to_vec());
    // f16 edge values in an f64 tensor: a subnormal, the largest finite, infinity, negative zero
    let mut edges: Tensor<Rank1<4>, f64> = Tensor::zeros();
    let bytes = file("half_precision.safetensors");
    let report = edges
        .load_safetensors_with(&bytes, &LoadOptions::new().prefix("edges").strict(false))
        .unwrap();
    assert_eq!(report.unexpected.len(), 0);
    let v = edges.to_vec();
    assert_eq!(v[..3], [2.0_f64.powi(-24), 65504.0, f64::INFINITY]);
    assert!(v[3] == 0.0 && v[3].is_sign_negative());
}

#[test]
fn a_failed_load_names_every_problem_and_changes_nothing() {
    #[derive(Module)]
    struct Other {
        l1: Linear<3, 2>,
        l2: Linear<4, 2>,
        extra: Tensor<Rank1<5>>,
    }
    let other = Other {
        l1: Linear::zeros(),
        l2: Linear::zeros(),
        extra: Tensor::ones(),
    };
    let mut model = two();
    let mut saved = other.to_safetensors();
    let before = model.to_safetensors();
    // l2.weight has another shape, `extra` is unexpected; and a model with a parameter the file lacks.
    let err = model.load_safetensors(&saved).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape);
    assert_eq!(
        err.to_string(),
        "cannot load the model: 2 problems: tensor `l2.weight` has shape [2, 4] in the file, the \
         model needs [2, 3]; the file has a tensor `extra` that the model does not (1 unexpected in \
         all)"
    );
    assert_eq!(model.to_safetensors(), before);
    #[derive(Module)]
    struct Three {
        l1: Linear<3, 2>,
        l3: Linear<3, 2>,
    }
    let mut three = Three {
        l1: Linear::zeros(),
        l3: Linear::zeros(),
    };
    saved = two().to_safetensors();
    let err = three.load_safetensors(&saved).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Missing);
    assert_eq!(
        err.to_string(),
        "cannot load the model: 3 problems: tensor `l3.weight` is missing from the file; tensor \
         `l3.bias` is missing from the file; the file has 2 tensors that the model does not: \
         `l2.bias`, `l2.weight`"
    );
}

#[test]
fn a_non_strict_load_skips_and_reports_and_a_prefix_selects_a_part() {
    #[derive(Module)]
    struct Wrapper {
        model: Two,
        step: Tensor<Rank1<1>>,
    }
    let mut source = two();
    source.l1.weight = Tensor::full(1.5);
    let checkpoint = Wrapper {
        model: source,
        step: Tensor::full(7.0),
    }
    .to_safetensors();
    // The whole model from under `model.`: `step` is outside the prefix, so not unexpected.
    let mut model = two();
    model
        .load_safetensors_with(&checkpoint, &LoadOptions::new().prefix("model."))
        .unwrap();
    assert_eq!(model.l1.weight, Tensor::full(1.5));
    // A sub-model from a deeper prefix.
    let mut layer: Linear<3, 2> = Linear::zeros();
    layer
        .load_safetensors_with(&checkpoint, &LoadOptions::new().prefix("model.l1."))
        .unwrap();
    assert_eq!(layer.weight, Tensor::full(1.5));
    // Strict without the prefix: every name differs.
    let err = model.load_safetensors(&checkpoint).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot load the model: 5 problems: tensor `l1.weight` is missing"),
        "{err}"
    );
    // Not strict: nothing matches, both sides are reported, nothing changes.
    let report = model
        .load_safetensors_with(&checkpoint, &LoadOptions::new().strict(false))
        .unwrap();
    assert_eq!(
        report.missing,
        ["l1.weight", "l1.bias", "l2.weight", "l2.bias"]
    );
    assert_eq!(
        report.unexpected,
        [
            "model.l1.bias",
            "model.l1.weight",
            "model.l2.bias",
            "model.l2.weight",
            "step"
        ]
    );
}
