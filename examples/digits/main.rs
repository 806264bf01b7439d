//! Handwritten digits: a multilayer perceptron 64 -> 64 -> ReLU -> 10, trained with Adam and
//! cross-entropy on 8x8 images, to at least 98 % test accuracy in well under a second (release
//! build).
//!
//! The data (`examples/data/digits.csv.gz`, 1797 images, pixels 0..16 scaled to 0..1) is shuffled with
//! a fixed seed and split 80/20. Each epoch reshuffles the training rows and takes static mini-batches
//! of 16; the evaluation scores every row in one forward call, as a batch whose size is known only at
//! run time (the same model code, see `model.rs`). At the end the example writes the training curves
//! as an SVG, saves the model as safetensors (the `predict` example serves it), loads the file into a
//! fresh model and checks that it predicts exactly the same logits.
//!
//! Run: `cargo run --release --example digits` (files go to `target/digits/`), or
//! `cargo run --release --example digits -- OUT_DIR`.

mod model;
mod plot;

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use shaped::Module;
use shaped::rand::{SeedableRng, rngs::StdRng};

use model::{BATCH, EPOCHS, Mlp, SEED};

/// The logits of every row, in row order, from one forward call (to compare two models bit for bit).
fn logits(model: &Mlp, data: &shaped::data::Dataset<64, 10>) -> Vec<f32> {
    model.forward(data.all::<f32>().0).to_vec()
}

fn main() -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    let model_path = std::env::args_os()
        .nth(1)
        .map_or_else(model::default_model_path, |dir| {
            PathBuf::from(dir).join("digits_mlp.safetensors")
        });
    let out_dir = model_path
        .parent()
        .expect("a file in a directory")
        .to_owned();

    let (rng, train, test) = model::split()?;
    println!(
        "digits: {} training rows, {} test rows, batches of {BATCH}",
        train.len(),
        test.len()
    );
    println!(
        "model: 64 -> 64 -> ReLU -> 10, {} parameters",
        Mlp::new(&mut StdRng::seed_from_u64(SEED)).param_count()
    );
    println!("{}", model::LOG_HEADER);
    let (model, history) = model::train(rng, &train, &test, |epoch, e| {
        println!("{}", e.log_line(epoch, start.elapsed().as_secs_f64()));
    });
    let last = history.last().expect("at least one epoch");
    assert!(
        last.test_acc >= 0.98,
        "test accuracy {:.2} % is below 98 %",
        100.0 * last.test_acc
    );

    std::fs::create_dir_all(&out_dir)?;
    let svg_path = out_dir.join("digits_curves.svg");
    std::fs::write(&svg_path, plot::curves_svg(&history))?;
    model.save(&model_path)?;

    // A model with other weights, then the saved ones: the same logits on every row, bit for bit.
    let mut loaded = Mlp::new(&mut StdRng::seed_from_u64(SEED + 1));
    loaded.load(&model_path)?;
    for set in [&train, &test] {
        let (a, b) = (logits(&model, set), logits(&loaded, set));
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
    }
    println!(
        "test accuracy {:.2} % after {EPOCHS} epochs in {:.2} s",
        100.0 * last.test_acc,
        start.elapsed().as_secs_f64()
    );
    println!("curves: {}", svg_path.display());
    println!(
        "model:  {} (reloaded: the same logits on all {} rows)",
        model_path.display(),
        train.len() + test.len()
    );
    Ok(())
}
