//! Serving the digits model: load what the `digits` example saved (training it first if the file is
//! absent), read the digits CSV with its number of rows known only at run time, and score every row in
//! one forward call, then again one row at a time. The model code is the one the training used: its
//! forward is written for any batch dimension.
//!
//! Run: `cargo run --release --example predict` (or `-- MODEL_FILE`).

// The training half (the log's fields) is used only when there is no saved model yet.
#[allow(dead_code)]
#[path = "digits/model.rs"]
mod model;

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use shaped::nn::{accuracy, predict};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Const, Module, Tensor};

use model::Mlp;

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args_os()
        .nth(1)
        .map_or_else(model::default_model_path, PathBuf::from);
    if !path.exists() {
        println!("no model at {}: training one first", path.display());
        let (rng, train, test) = model::split()?;
        let (trained, _) = model::train(rng, &train, &test, |_, _| {});
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        trained.save(&path)?;
    }
    // Any weights, then the saved ones.
    let mut model = Mlp::new(&mut StdRng::seed_from_u64(1));
    model.load(&path)?;
    println!("model: {}", path.display());

    // Every row of the file, as one batch whose size the type does not know.
    let data = model::read_digits()?;
    let (x, labels): (Tensor<(usize, Const<64>)>, _) = data.all();
    let rows = x.shape()[0];
    let start = Instant::now();
    let logits = model.forward(x.clone());
    let at_once = start.elapsed();
    let predicted = predict(&logits);
    let acc = accuracy(&logits, &labels);

    // The same rows one at a time, through the same compiled forward: the same predictions.
    let start = Instant::now();
    let mut one_by_one = Vec::with_capacity(rows);
    for row in x.as_slice().chunks_exact(64) {
        let one: Tensor<(usize, Const<64>)> = Tensor::from_slice_with((1, Const), row)?;
        one_by_one.push(predict(&model.forward(one)).as_slice()[0]);
    }
    let singly = start.elapsed();
    assert_eq!(one_by_one, predicted.as_slice(), "one row at a time agrees");

    println!(
        "scored {rows} rows in one call in {:.2} ms, and one at a time in {:.2} ms",
        at_once.as_secs_f64() * 1e3,
        singly.as_secs_f64() * 1e3
    );
    println!("predict: {rows} rows, accuracy {:.2} %", 100.0 * acc);
    Ok(())
}
