//! `#[derive(Module)]`: gradient structs that mirror the model, names, counts, nesting, generics,
//! tuple structs, skipped fields, and save/load of the parameters.

use shaped::optim::{Optimizer, Sgd};
use shaped::{Element, ErrorKind, Module, NoTape, Rank0, Rank1, Rank2, Tape, Tensor, Tracking};

#[derive(Module, Clone, Debug)]
struct Affine<T: Tracking<f64> = NoTape> {
    w: Tensor<Rank2<2, 3>, f64, T>,
    b: Tensor<Rank1<2>, f64, T>,
}

#[derive(Module, Clone, Debug)]
struct Outer<T: Tracking<f64> = NoTape> {
    first: Affine<T>,
    scale: Tensor<Rank0, f64, T>,
    #[module(skip)]
    label: &'static str,
    second: Affine<T>,
}

#[derive(Module, Clone, Debug)]
struct Pair(Tensor<Rank1<2>>, #[module(skip)] u8, Tensor<Rank2<2, 2>>);

#[derive(Module, Clone, Debug)]
struct Generic<E: Element, const N: usize> {
    v: Tensor<Rank1<N>, E>,
}

fn affine(seed: f64) -> Affine {
    Affine {
        w: Tensor::<Rank2<2, 3>, f64>::from_fn(|[i, j]| seed + (i * 3 + j) as f64),
        b: Tensor::from([seed, -seed]),
    }
}

fn outer() -> Outer {
    Outer {
        first: affine(1.0),
        scale: Tensor::from(2.0),
        label: "x",
        second: affine(10.0),
    }
}

#[test]
fn names_follow_field_paths_and_skip_skipped_fields() {
    let m = outer();
    let names: Vec<String> = m.params().into_iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        ["first.w", "first.b", "scale", "second.w", "second.b"]
    );
    assert_eq!(m.params()[0].dims, &[2, 3]);
    assert_eq!(m.param_count(), 2 * (6 + 2) + 1);
    assert_eq!(m.label, "x");
}

#[test]
fn tuple_structs_are_named_by_index() {
    let p = Pair(Tensor::ones(), 7, Tensor::zeros());
    let names: Vec<String> = p.params().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["0", "2"]);
    let g: PairGrads = p.zeros_like();
    let _: &Tensor<Rank1<2>> = &g.0;
    let _: &Tensor<Rank2<2, 2>> = &g.2;
    assert_eq!(p.1, 7);
}

#[test]
fn generic_models_keep_their_parameters() {
    let m: Generic<f32, 5> = Generic { v: Tensor::ones() };
    let g: GenericGrads<f32, 5> = m.zeros_like();
    assert_eq!(g.v.shape(), [5]);
    assert_eq!(m.param_count(), 5);
}

#[test]
fn gradients_mirror_the_model_field_by_field() {
    let m = outer();
    let x = Tensor::from([1.0, 2.0, 3.0]);
    let tape = Tape::new();
    let mt = tape.watch(&m);
    // loss = scale * sum(first.w) * sum(x) + sum(second.b * second.b). Every parameter of the nested
    // modules is watched with the model, so the ops applied to `first.w` and `second.b` on their own
    // (a sum, a square) are recorded like any other.
    let first_w = (x.sum() * mt.first.w.sum()) * &mt.scale;
    let loss = first_w + (&mt.second.b * &mt.second.b).sum();
    let g: OuterGrads = m.grads(&loss.backward());
    // d/d first.w[i][j] = scale * sum(x) = 12; d/d scale = sum(first.w) * sum(x) = 21 * 6
    assert_eq!(g.first.w.to_array(), [[12.0; 3]; 2]);
    assert_eq!(g.scale.item(), 21.0 * 6.0);
    // d/d second.b = 2 second.b; unused parameters read as zeros
    assert_eq!(g.second.b.to_vec(), vec![20.0, -20.0]);
    assert_eq!(g.first.b.to_vec(), vec![0.0, 0.0]);
    assert_eq!(g.second.w.to_array(), [[0.0; 3]; 2]);
}

#[test]
fn gradients_accumulate_with_zip_mut() {
    let m = outer();
    let mut acc = m.zeros_like();
    let mut one = m.zeros_like();
    one.visit_mut(&mut String::new(), &mut |_, v, _| v.fill(1.5));
    acc.zip_mut(&one, &mut |a, b| {
        a.iter_mut().zip(b).for_each(|(a, b)| *a += b)
    });
    acc.zip_mut(&one, &mut |a, b| {
        a.iter_mut().zip(b).for_each(|(a, b)| *a += b)
    });
    assert_eq!(acc.first.w.to_array(), [[3.0; 3]; 2]);
    assert_eq!(acc.scale.item(), 3.0);
}

#[test]
fn an_optimizer_updates_every_parameter_of_the_model() {
    let mut m = outer();
    let mut g = m.zeros_like();
    g.visit_mut(&mut String::new(), &mut |_, v, _| v.fill(1.0));
    let mut sgd = Sgd::new(&m, 0.5);
    sgd.step(&mut m, &g);
    assert_eq!(m.scale.item(), 1.5);
    assert_eq!(m.second.b.to_vec(), vec![9.5, -10.5]);
    assert_eq!(m.first.w[[1, 2]], 1.0 + 5.0 - 0.5);
}

#[test]
fn save_and_load_round_trip_bit_exactly() {
    let m = outer();
    let bytes = m.to_safetensors();
    let mut other = Outer {
        first: affine(0.0),
        scale: Tensor::from(0.0),
        label: "y",
        second: affine(0.0),
    };
    other.load_safetensors(&bytes).unwrap();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    m.visit(&mut String::new(), &mut |_, v, _| {
        a.extend(v.iter().map(|x| x.to_bits()))
    });
    other.visit(&mut String::new(), &mut |_, v, _| {
        b.extend(v.iter().map(|x| x.to_bits()))
    });
    assert_eq!(a, b);
    assert_eq!(other.label, "y");
}

#[test]
fn a_failed_load_changes_nothing_and_names_the_tensor() {
    let source = Pair(
        Tensor::from([1.0, 2.0]),
        0,
        Tensor::from([[3.0, 4.0], [5.0, 6.0]]),
    );
    let bytes = source.to_safetensors();

    // Missing tensor: a model with more parameters than the file.
    let mut wider = outer();
    let before = wider.to_safetensors();
    let err = wider
        .load_safetensors(
            &Affine {
                w: Tensor::zeros(),
                b: Tensor::zeros(),
            }
            .to_safetensors(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Missing);
    // Every problem is named at once: the five parameters the file lacks and its two extra tensors.
    assert_eq!(
        err.to_string(),
        "cannot load the model: 6 problems: tensor `first.w` is missing from the file; \
         tensor `first.b` is missing from the file; tensor `scale` is missing from the file; \
         tensor `second.w` is missing from the file; tensor `second.b` is missing from the file; \
         the file has 2 tensors that the model does not: `b`, `w`"
    );
    assert_eq!(wider.to_safetensors(), before);

    // Wrong dtype: an f32 file into an f64 model with the same names.
    #[derive(Module)]
    struct Pair64(
        Tensor<Rank1<2>, f64>,
        #[module(skip)] (),
        Tensor<Rank2<2, 2>, f64>,
    );
    let mut p64 = Pair64(Tensor::zeros(), (), Tensor::zeros());
    let err = p64.load_safetensors(&bytes).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Dtype);
    assert_eq!(
        err.to_string(),
        "cannot load the model: 2 problems: tensor `0` is f32 in the file, the model needs f64; \
         tensor `2` is f32 in the file, the model needs f64"
    );

    // Wrong shape.
    #[derive(Module)]
    struct PairT(Tensor<Rank1<2>>, #[module(skip)] (), Tensor<Rank2<1, 4>>);
    let mut pt = PairT(Tensor::full(9.0), (), Tensor::full(9.0));
    let err = pt.load_safetensors(&bytes).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape);
    assert_eq!(
        err.to_string(),
        "tensor `2` has shape [2, 2] in the file, the model needs [1, 4]"
    );
    assert_eq!(
        pt.0.to_vec(),
        vec![9.0, 9.0],
        "the first tensor matched but must not be loaded"
    );

    // Unexpected tensor: the file has more than the model.
    #[derive(Module)]
    struct One(Tensor<Rank1<2>>);
    let mut one = One(Tensor::zeros());
    let err = one.load_safetensors(&bytes).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unexpected);
    assert_eq!(
        err.to_string(),
        "the file has a tensor `2` that the model does not (1 unexpected in all)"
    );
    assert_eq!(one.0.to_vec(), vec![0.0, 0.0]);

    // Not safetensors at all.
    let err = one.load_safetensors(b"hello").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format);
    assert!(
        err.to_string()
            .starts_with("not a valid safetensors buffer: "),
        "{err}"
    );
}

#[test]
fn save_and_load_through_a_file() {
    let dir = std::env::temp_dir().join(format!("shaped-module-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("outer.safetensors");
    let m = outer();
    m.save(&path).unwrap();
    let mut back = Outer {
        first: affine(0.0),
        scale: Tensor::from(0.0),
        label: "",
        second: affine(0.0),
    };
    back.load(&path).unwrap();
    assert_eq!(back.second.w, m.second.w);
    let err = back.load(dir.join("missing.safetensors")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().starts_with("cannot read "), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
