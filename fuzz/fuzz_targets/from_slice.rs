//! Any bytes as `f32` and `f64` values into `Tensor::from_slice` and `from_vec` for a few shapes
//! (every prefix length up to 70 values), as class ids into `Labels::from_slice`, and as text into
//! `Dataset::from_csv`.
//!
//! Never panics. A tensor is built exactly when the length is the shape's element count, and then
//! holds the values bit for bit; every error has the kind and the style the docs give.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shaped::data::Dataset;
use shaped::nn::Labels;
use shaped::{ErrorKind, Rank0, Rank1, Rank2, Rank3, Rank4, Shape, Tensor};

/// Up to this many values are tried per element type.
const MOST: usize = 70;

fn tensors<S: Shape>(f: &[f32], d: &[f64]) {
    for n in 0..=f.len().min(MOST) {
        match Tensor::<S>::from_slice(&f[..n]) {
            Ok(t) => {
                assert_eq!(n, S::NUMEL);
                let same = t
                    .as_slice()
                    .iter()
                    .zip(&f[..n])
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same);
            }
            Err(e) => {
                assert_ne!(n, S::NUMEL);
                assert_eq!(e.kind(), ErrorKind::Length);
                assert!(
                    e.to_string().starts_with("cannot build a tensor of shape "),
                    "{e}"
                );
            }
        }
    }
    for n in 0..=d.len().min(MOST) {
        match Tensor::<S, f64>::from_vec(d[..n].to_vec()) {
            Ok(t) => {
                assert_eq!(n, S::NUMEL);
                let same = t
                    .as_slice()
                    .iter()
                    .zip(&d[..n])
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same);
            }
            Err(e) => {
                assert_ne!(n, S::NUMEL);
                assert_eq!(e.kind(), ErrorKind::Length);
            }
        }
    }
}

fn labels<const B: usize, const C: usize>(ids: &[usize]) {
    match Labels::<B, C>::from_slice(ids) {
        Ok(l) => assert!(ids.len() == B && l.as_slice().iter().all(|&i| i < C)),
        Err(e) => match e.kind() {
            ErrorKind::Length => assert_ne!(ids.len(), B),
            ErrorKind::OutOfRange => assert!(ids.iter().any(|&i| i >= C)),
            other => panic!("unexpected kind {other:?}: {e}"),
        },
    }
}

fn csv<const F: usize, const C: usize>(text: &str, header: bool) {
    match Dataset::<F, C>::from_csv(text, header) {
        Ok(d) => {
            assert_eq!(d.features().len(), d.labels().len());
            assert!(d.labels().iter().all(|&c| c < C));
            // Cutting into batches reads every row.
            let rows = d.batches::<2, f32>().count() * 2 + d.remainder::<2, f32>().count();
            assert_eq!(rows, d.len());
        }
        Err(e) => {
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::Length | ErrorKind::Parse | ErrorKind::OutOfRange
                ),
                "{e}"
            );
            assert!(e.to_string().starts_with("line "), "{e}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let f: Vec<f32> = data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let d: Vec<f64> = data
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect();
    tensors::<Rank0>(&f, &d);
    tensors::<Rank1<1>>(&f, &d);
    tensors::<Rank1<7>>(&f, &d);
    tensors::<Rank2<2, 3>>(&f, &d);
    tensors::<Rank2<0, 5>>(&f, &d);
    tensors::<Rank3<2, 2, 2>>(&f, &d);
    tensors::<Rank4<2, 1, 3, 2>>(&f, &d);

    let ids: Vec<usize> = data.iter().map(|&b| usize::from(b % 16)).collect();
    labels::<3, 10>(&ids);
    labels::<0, 4>(&ids);
    labels::<4, 1>(&ids);

    let text = String::from_utf8_lossy(data);
    let header = data.first().is_some_and(|b| b & 1 == 1);
    csv::<2, 3>(&text, header);
    csv::<4, 3>(&text, header);
    csv::<0, 2>(&text, header);
    csv::<1, 0>(&text, header);
});
