//! Any bytes into `Module::load_safetensors`, for a small derived model in `f32` and one in `f64`.
//!
//! Never panics. On an error the model is exactly as it was, and the message is in the crate's style
//! (lowercase); on success, saving the model and loading that into another model gives the same
//! parameters, bit for bit.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shaped::nn::Linear;
use shaped::rand::SeedableRng;
use shaped::rand::rngs::StdRng;
use shaped::{Element, Module, Rank0, Rank2, Tensor};

#[derive(Module)]
struct Small<E: Element> {
    layer: Linear<3, 2, E>,
    scale: Tensor<Rank0, E>,
    table: Tensor<Rank2<2, 2>, E>,
}

fn small<E: Element>(seed: u64) -> Small<E> {
    Small {
        layer: Linear::new(&mut StdRng::seed_from_u64(seed)),
        scale: Tensor::ones(),
        table: Tensor::zeros(),
    }
}

fn bits<E: Element, M: Module<Elem = E>>(m: &M) -> Vec<u64> {
    let mut out = Vec::new();
    m.visit(&mut String::new(), &mut |_, v, _| {
        out.extend(v.iter().map(|x| x.to_f64().unwrap_or(0.0).to_bits()));
    });
    out
}

fn check<E: Element>(data: &[u8]) {
    let mut model = small::<E>(1);
    let before = bits(&model);
    match model.load_safetensors(data) {
        Err(e) => {
            assert_eq!(bits(&model), before, "a failed load changed the model: {e}");
            let first = e.to_string().chars().next();
            assert!(first.is_some_and(|c| !c.is_uppercase()), "{e}");
        }
        Ok(()) => {
            let saved = model.to_safetensors();
            let mut again = small::<E>(2);
            again.load_safetensors(&saved).expect("a saved model loads");
            assert_eq!(bits(&again), bits(&model));
            assert_eq!(again.to_safetensors(), saved);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check::<f32>(data);
    check::<f64>(data);
});
