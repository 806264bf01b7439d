//! The run-time boundaries: every fallible entry point returns an [`Error`] whose kind is pinned and
//! whose message is lowercase and says what was expected and what was found, with the numbers; none
//! panics on any input; and a failed load leaves the model exactly as it was.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use shaped::data::Dataset;
use shaped::nn::{Labels, Linear};
use shaped::rand::SeedableRng;
use shaped::rand::rngs::StdRng;
use shaped::{Const, Error, ErrorKind, Module, Rank0, Rank1, Rank2, Rank3, Tensor};

/// Checks the kind and the message, and that the message reads like the crate's others: it starts
/// with a lowercase letter and does not end with a full stop.
#[track_caller]
fn assert_error(err: &Error, kind: ErrorKind, message: &str) {
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(err.to_string(), message);
    assert_style(err);
}

#[track_caller]
fn assert_style(err: &Error) {
    let text = err.to_string();
    let first = text.chars().next().expect("a message");
    assert!(
        !first.is_uppercase() && !text.ends_with('.'),
        "not in the crate's style: {text}"
    );
}

// --- Tensor::from_vec and from_slice ---------------------------------------------------------------

#[test]
fn building_a_tensor_from_the_wrong_number_of_elements() {
    let err = Tensor::<Rank2<2, 3>>::from_vec(vec![0.0; 5]).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Length,
        "cannot build a tensor of shape [2, 3] from 5 elements: it needs 6",
    );
    let err = Tensor::<Rank2<2, 3>, f64>::from_slice(&[0.0; 7]).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Length,
        "cannot build a tensor of shape [2, 3] from 7 elements: it needs 6",
    );
    let err = Tensor::<Rank0>::from_vec(vec![]).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Length,
        "cannot build a tensor of shape [] from 0 elements: it needs 1",
    );
    // A zero-sized shape needs no elements, and refuses one.
    assert_eq!(Tensor::<Rank2<3, 0>>::from_vec(vec![]).unwrap().numel(), 0);
    let err = Tensor::<Rank2<3, 0>, f64>::from_slice(&[1.0]).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Length,
        "cannot build a tensor of shape [3, 0] from 1 elements: it needs 0",
    );
    // The right count, any values (NaN and infinities included), is accepted.
    let t = Tensor::<Rank1<3>, f64>::from_slice(&[f64::NAN, f64::INFINITY, -0.0]).unwrap();
    assert!(t.to_vec()[0].is_nan());
}

#[test]
fn building_tensors_from_every_length_never_panics() {
    // Every length from 0 to 64 for a few shapes: exactly one length succeeds.
    fn lengths<S: shaped::StaticShape>() {
        for len in 0..=64 {
            let v = vec![1.5_f32; len];
            let (a, b) = (
                Tensor::<S>::from_slice(&v),
                Tensor::<S, f64>::from_vec(vec![0.5; len]),
            );
            assert_eq!(a.is_ok(), len == S::NUMEL);
            assert_eq!(b.is_ok(), len == S::NUMEL);
            if let Err(e) = a {
                assert_eq!(e.kind(), ErrorKind::Length);
                assert!(e.to_string().contains(&format!("from {len} elements")));
            }
        }
    }
    lengths::<Rank0>();
    lengths::<Rank1<1>>();
    lengths::<Rank2<4, 0>>();
    lengths::<Rank2<3, 5>>();
    lengths::<Rank3<2, 2, 4>>();
}

// --- nn::Labels -------------------------------------------------------------------------------------

#[test]
fn labels_out_of_range_or_of_the_wrong_count() {
    let err = Labels::<Const<3>, 10>::new([0, 10, 4]).unwrap_err();
    assert_error(
        &err,
        ErrorKind::OutOfRange,
        "class id 10 at position 1 is out of range: there are 10 classes (0 to 9)",
    );
    // The first bad id is reported.
    let err = Labels::<Const<4>, 2>::from_slice(&[1, 0, 7, 2]).unwrap_err();
    assert_error(
        &err,
        ErrorKind::OutOfRange,
        "class id 7 at position 2 is out of range: there are 2 classes (0 to 1)",
    );
    let err = Labels::<Const<2>, 5>::from_slice(&[usize::MAX, 0]).unwrap_err();
    assert_error(
        &err,
        ErrorKind::OutOfRange,
        &format!(
            "class id {} at position 0 is out of range: there are 5 classes (0 to 4)",
            usize::MAX
        ),
    );
    let err = Labels::<Const<4>, 3>::from_slice(&[0, 1]).unwrap_err();
    assert_error(&err, ErrorKind::Length, "expected 4 class ids, got 2");
    let err = Labels::<Const<0>, 3>::from_slice(&[0]).unwrap_err();
    assert_error(&err, ErrorKind::Length, "expected 0 class ids, got 1");
    assert!(Labels::<Const<0>, 3>::from_slice(&[]).is_ok());
    assert_eq!(
        Labels::<Const<2>, 1>::new([0, 0]).unwrap().as_slice(),
        &[0, 0]
    );
    let err = Labels::<Const<2>, 1>::new([0, 1]).unwrap_err();
    assert_error(
        &err,
        ErrorKind::OutOfRange,
        "class id 1 at position 1 is out of range: there is 1 class (0)",
    );
    let err = Labels::<Const<1>, 0>::new([0]).unwrap_err();
    assert_error(
        &err,
        ErrorKind::OutOfRange,
        "class id 0 at position 0 is out of range: there are no classes",
    );
}

// --- data::Dataset::from_csv ---------------------------------------------------------------------------

#[test]
fn csv_with_the_wrong_number_of_columns() {
    let err = Dataset::<2, 3>::from_csv("1,2,0\n1,2\n", false).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Length,
        "line 2: expected 3 columns (2 features and a class), found 2",
    );
    let err = Dataset::<2, 3>::from_csv("h\n1,2,0,5\n", true).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Length,
        "line 2: expected 3 columns (2 features and a class), found 4",
    );
    // A trailing comma is an empty last column.
    let err = Dataset::<1, 3>::from_csv("1,0,\n", false).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Length,
        "line 1: expected 2 columns (1 features and a class), found 3",
    );
}

#[test]
fn csv_fields_that_are_not_numbers() {
    let err = Dataset::<2, 3>::from_csv("5.1,3.5,0\n6.2,x,1\n", false).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Parse,
        "line 2, column 2: cannot read `x` as a number",
    );
    let err = Dataset::<2, 3>::from_csv("1,,0\n", false).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Parse,
        "line 1, column 2: cannot read `` as a number",
    );
    let err = Dataset::<1, 3>::from_csv("1,two\n", false).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Parse,
        "line 1, column 2: cannot read `two` as a number",
    );
}

#[test]
fn csv_class_ids_out_of_range() {
    let err = Dataset::<2, 3>::from_csv("1,2,3\n", false).unwrap_err();
    assert_error(
        &err,
        ErrorKind::OutOfRange,
        "line 1: class id 3 is out of range: there are 3 classes (0 to 2)",
    );
    // The message quotes the field as written.
    for class in [
        "-1", "0.5", "1e300", "3.0", "nan", "NaN", "inf", "-inf", "infinity",
    ] {
        let err = Dataset::<1, 3>::from_csv(&format!("1,{class}\n"), false).unwrap_err();
        assert_error(
            &err,
            ErrorKind::OutOfRange,
            &format!("line 1: class id {class} is out of range: there are 3 classes (0 to 2)"),
        );
    }
    // One class, and none.
    let err = Dataset::<1, 1>::from_csv("1,0\n1,1\n", false).unwrap_err();
    assert_error(
        &err,
        ErrorKind::OutOfRange,
        "line 2: class id 1 is out of range: there is 1 class (0)",
    );
    let err = Dataset::<1, 0>::from_csv("1,0\n", false).unwrap_err();
    assert_error(
        &err,
        ErrorKind::OutOfRange,
        "line 1: class id 0 is out of range: there are no classes",
    );
}

#[test]
fn csv_line_numbers_count_the_header_and_blank_lines() {
    // Blank lines and Windows line ends are fine; line numbers are those of the text.
    let d = Dataset::<2, 2>::from_csv("a,b,c\r\n\r\n1, 2 ,1\r\n\n 3,4,0 \n", true).unwrap();
    assert_eq!(d.features(), &[[1.0, 2.0], [3.0, 4.0]]);
    let err = Dataset::<2, 2>::from_csv("a,b,c\n\n1,2,1\n3,4,2\n", true).unwrap_err();
    assert!(err.to_string().starts_with("line 4: "), "{err}");
    // No rows at all: an empty data set, not an error.
    assert!(Dataset::<2, 2>::from_csv("", false).unwrap().is_empty());
    assert!(
        Dataset::<2, 2>::from_csv("only,a,header", true)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_shipped_iris_data_parses_and_a_wrong_layout_is_named() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/iris.csv"
    ))
    .unwrap();
    let iris = Dataset::<4, 3>::from_csv(&text, true).unwrap();
    assert_eq!(iris.len(), 150);
    assert_eq!(iris.features()[0], [5.1, 3.5, 1.4, 0.2]);
    assert_eq!(iris.labels().iter().filter(|&&c| c == 2).count(), 50);
    let err = Dataset::<3, 3>::from_csv(&text, true).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Length,
        "line 2: expected 4 columns (3 features and a class), found 5",
    );
    // Two classes only: the first row of class 2 is line 102 (the header is line 1).
    let err = Dataset::<4, 2>::from_csv(&text, true).unwrap_err();
    assert_error(
        &err,
        ErrorKind::OutOfRange,
        "line 102: class id 2 is out of range: there are 2 classes (0 to 1)",
    );
    // Without skipping the header, its third field is not a number.
    let err = Dataset::<4, 3>::from_csv(&text, false).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Parse,
        "line 1, column 3: cannot read `setosa` as a number",
    );
}

#[test]
fn csv_of_any_text_never_panics() {
    // Random text made of the characters CSV parsing cares about.
    let mut runner = TestRunner::new(Config {
        cases: 2000,
        rng_seed: RngSeed::Fixed(11),
        failure_persistence: None,
        ..Config::default()
    });
    let text = "[0-9,.e\\-+ \\n\\r\\tnaifxNI]{0,80}";
    runner
        .run(&(text, any::<bool>()), |(text, header)| {
            if let Err(e) = Dataset::<2, 3>::from_csv(&text, header) {
                prop_assert!(e.to_string().starts_with("line "), "{}", e);
            }
            Ok(())
        })
        .unwrap();
}

// --- Module::load_safetensors and load ------------------------------------------------------------------

#[derive(Module, Clone, Debug)]
struct Net {
    l1: Linear<3, 4>,
    l2: Linear<4, 2>,
    scale: Tensor<Rank1<2>>,
}

fn net(seed: u64) -> Net {
    let mut rng = StdRng::seed_from_u64(seed);
    Net {
        l1: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
        scale: Tensor::full(0.5),
    }
}

/// The bits of every parameter, in order.
fn bits<M: Module<Elem = f32>>(m: &M) -> Vec<u32> {
    let mut out = Vec::new();
    m.visit(&mut String::new(), &mut |_, v, _| {
        out.extend(v.iter().map(|x| x.to_bits()));
    });
    out
}

/// A safetensors buffer written by hand: the header's length, the JSON header, the data.
fn raw(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Loads `bytes` into a fresh model, expects the error, and checks the model did not change.
#[track_caller]
fn load_fails(bytes: &[u8], kind: ErrorKind, message: &str) {
    let mut m = net(1);
    let before = bits(&m);
    let err = m.load_safetensors(bytes).unwrap_err();
    assert_error(&err, kind, message);
    assert_eq!(bits(&m), before, "a failed load changed the model");
}

#[test]
fn loading_something_that_is_not_safetensors() {
    load_fails(
        b"hello",
        ErrorKind::Format,
        "not a valid safetensors buffer: 5 bytes, fewer than the 8 that give the header's length",
    );
    load_fails(
        b"",
        ErrorKind::Format,
        "not a valid safetensors buffer: 0 bytes, fewer than the 8 that give the header's length",
    );
    let mut long = 1000_u64.to_le_bytes().to_vec();
    long.extend_from_slice(b"{}");
    load_fails(
        &long,
        ErrorKind::Format,
        "not a valid safetensors buffer: the header's length is 1000 bytes, but 2 bytes follow it",
    );
    load_fails(
        &u64::MAX.to_le_bytes(),
        ErrorKind::Format,
        &format!(
            "not a valid safetensors buffer: the header's length is {} bytes, but 0 bytes follow it",
            u64::MAX
        ),
    );
    load_fails(
        &raw("not json", &[]),
        ErrorKind::Format,
        "not a valid safetensors buffer: invalid JSON in header: expected ident at line 1 column 2 \
         (a header of 8 bytes in 16 bytes)",
    );
    // Offsets that do not cover the data: 8 bytes declared, 4 given.
    load_fails(
        &raw(
            r#"{"scale":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            &[0; 4],
        ),
        ErrorKind::Format,
        "not a valid safetensors buffer: incomplete metadata, file not fully covered \
         (a header of 58 bytes in 70 bytes)",
    );
    // A shape that does not match its bytes.
    load_fails(
        &raw(
            r#"{"scale":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
            &[0; 8],
        ),
        ErrorKind::Format,
        "not a valid safetensors buffer: invalid shape, data type, or offset for tensor \
         (a header of 58 bytes in 74 bytes)",
    );
}

#[test]
fn loading_a_file_that_does_not_fit_the_model() {
    let good = net(2).to_safetensors();
    assert!(net(1).load_safetensors(&good).is_ok());

    // Missing: the file of a smaller model.
    #[derive(Module)]
    struct Half {
        l1: Linear<3, 4>,
    }
    let half = Half {
        l1: Linear::new(&mut StdRng::seed_from_u64(3)),
    };
    load_fails(
        &half.to_safetensors(),
        ErrorKind::Missing,
        "cannot load the model: 3 problems: tensor `l2.weight` is missing from the file; tensor \
         `l2.bias` is missing from the file; tensor `scale` is missing from the file",
    );

    // Unexpected: the model's tensors and one more.
    #[derive(Module)]
    struct More {
        l1: Linear<3, 4>,
        l2: Linear<4, 2>,
        scale: Tensor<Rank1<2>>,
        extra: Tensor<Rank0>,
    }
    let more = More {
        l1: Linear::new(&mut StdRng::seed_from_u64(4)),
        l2: Linear::new(&mut StdRng::seed_from_u64(5)),
        scale: Tensor::ones(),
        extra: Tensor::from(1.0_f32),
    };
    load_fails(
        &more.to_safetensors(),
        ErrorKind::Unexpected,
        "the file has a tensor `extra` that the model does not (1 unexpected in all)",
    );

    // Shape: the same names, the last tensor transposed.
    #[derive(Module)]
    struct Wide {
        l1: Linear<3, 4>,
        l2: Linear<4, 2>,
        scale: Tensor<Rank2<2, 1>>,
    }
    let wide = Wide {
        l1: Linear::new(&mut StdRng::seed_from_u64(6)),
        l2: Linear::new(&mut StdRng::seed_from_u64(7)),
        scale: Tensor::ones(),
    };
    load_fails(
        &wide.to_safetensors(),
        ErrorKind::Shape,
        "tensor `scale` has shape [2, 1] in the file, the model needs [2]",
    );

    // Dtype: the same model in f64.
    #[derive(Module)]
    struct Net64 {
        l1: Linear<3, 4, f64>,
        l2: Linear<4, 2, f64>,
        scale: Tensor<Rank1<2>, f64>,
    }
    let n64 = Net64 {
        l1: Linear::new(&mut StdRng::seed_from_u64(8)),
        l2: Linear::new(&mut StdRng::seed_from_u64(9)),
        scale: Tensor::ones(),
    };
    load_fails(
        &n64.to_safetensors(),
        ErrorKind::Dtype,
        "cannot load the model: 5 problems: tensor `l1.weight` is f64 in the file, the model needs \
         f32; tensor `l1.bias` is f64 in the file, the model needs f32; tensor `l2.weight` is f64 in \
         the file, the model needs f32; tensor `l2.bias` is f64 in the file, the model needs f32; \
         tensor `scale` is f64 in the file, the model needs f32",
    );
    // Types the crate has no element for, in hand-written files (half precision converts).
    #[derive(Module)]
    struct Scale {
        scale: Tensor<Rank1<2>>,
    }
    let mut s = Scale {
        scale: Tensor::full(3.0),
    };
    let err = s
        .load_safetensors(&raw(
            r#"{"scale":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#,
            &[0; 2],
        ))
        .unwrap_err();
    assert_error(
        &err,
        ErrorKind::Dtype,
        "tensor `scale` is u8 in the file, the model needs f32",
    );
    let err = s
        .load_safetensors(&raw(
            r#"{"scale":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#,
            &[0; 16],
        ))
        .unwrap_err();
    assert_error(
        &err,
        ErrorKind::Dtype,
        "tensor `scale` is i64 in the file, the model needs f32",
    );
    assert_eq!(s.scale.to_vec(), vec![3.0, 3.0]);
}

#[test]
fn loading_from_a_missing_file_and_saving_to_a_missing_directory() {
    let dir = std::env::temp_dir().join(format!("shaped-errors-{}", std::process::id()));
    let mut m = net(1);
    let before = bits(&m);
    let path = dir.join("absent.safetensors");
    let err = m.load(&path).unwrap_err();
    assert_error(
        &err,
        ErrorKind::Io,
        &format!(
            "cannot read {}: no such file or directory (os error 2)",
            path.display()
        ),
    );
    assert_eq!(bits(&m), before);
    let err = m
        .save(dir.join("no-such-dir").join("m.safetensors"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().starts_with("cannot write "), "{err}");
    assert_style(&err);
    // A load that succeeds changes every parameter.
    let source = net(42);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("net.safetensors");
    source.save(&file).unwrap();
    m.load(&file).unwrap();
    assert_eq!(bits(&m), bits(&source));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_load_in_the_middle_of_the_model_changes_nothing() {
    // Everything up to the last tensor matches; the last has the wrong shape. Nothing is loaded.
    #[derive(Module)]
    struct Late {
        l1: Linear<3, 4>,
        l2: Linear<4, 2>,
        scale: Tensor<Rank1<3>>,
    }
    let late = Late {
        l1: Linear::new(&mut StdRng::seed_from_u64(10)),
        l2: Linear::new(&mut StdRng::seed_from_u64(11)),
        scale: Tensor::ones(),
    };
    load_fails(
        &late.to_safetensors(),
        ErrorKind::Shape,
        "tensor `scale` has shape [3] in the file, the model needs [2]",
    );
}

#[test]
fn corrupted_files_never_panic_and_leave_the_model_alone() {
    // Truncations, byte flips and splices of a valid file: each load either fails and changes
    // nothing, or succeeds and then saves to a file that loads back to the same parameters.
    let good = net(5).to_safetensors();
    let len = good.len();
    let mut runner = TestRunner::new(Config {
        cases: 3000,
        rng_seed: RngSeed::Fixed(12),
        failure_persistence: None,
        ..Config::default()
    });
    let edit = (
        0..=len,
        prop::collection::vec((0..len, any::<u8>()), 0..4),
        prop::collection::vec(any::<u8>(), 0..12),
    );
    runner
        .run(&edit, |(cut, flips, tail)| {
            let mut bytes = good[..cut].to_vec();
            for (at, byte) in flips {
                if at < bytes.len() {
                    bytes[at] = byte;
                }
            }
            bytes.extend_from_slice(&tail);
            let mut m = net(1);
            let before = bits(&m);
            match m.load_safetensors(&bytes) {
                Err(e) => {
                    prop_assert_eq!(bits(&m), before);
                    let first = e.to_string().chars().next();
                    prop_assert!(first.is_some_and(|c| !c.is_uppercase()), "{}", e);
                }
                Ok(()) => {
                    let mut again = net(1);
                    again.load_safetensors(&m.to_safetensors()).unwrap();
                    prop_assert_eq!(bits(&again), bits(&m));
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_bare_tensor_and_a_model_in_f64_round_trip() {
    let t: Tensor<Rank2<2, 2>> = Tensor::from([[1.0, -0.0], [f32::INFINITY, f32::MIN_POSITIVE]]);
    let mut back: Tensor<Rank2<2, 2>> = Tensor::zeros();
    back.load_safetensors(&t.to_safetensors()).unwrap();
    assert_eq!(bits(&back), bits(&t));
    let lin: Linear<2, 3, f64> = Linear::new(&mut StdRng::seed_from_u64(13));
    let mut other: Linear<2, 3, f64> = Linear::new(&mut StdRng::seed_from_u64(14));
    other.load_safetensors(&lin.to_safetensors()).unwrap();
    assert_eq!(other.weight, lin.weight);
    assert_eq!(other.bias, lin.bias);
}
