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

use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use shaped::Module;
use shaped::rand::{SeedableRng, rngs::StdRng};

use model::{BATCH, EPOCHS, Epoch, Mlp, SEED};

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
    println!("epoch  train loss  train acc  test acc   time");
    let (model, history) = model::train(rng, &train, &test, |epoch, e| {
        println!(
            "{epoch:>5}  {:>10.4}  {:>8.2} %  {:>6.2} %  {:>5.2} s",
            e.train_loss,
            100.0 * e.train_acc,
            100.0 * e.test_acc,
            start.elapsed().as_secs_f64()
        );
    });
    let last = history.last().expect("at least one epoch");
    assert!(
        last.test_acc >= 0.98,
        "test accuracy {:.2} % is below 98 %",
        100.0 * last.test_acc
    );

    std::fs::create_dir_all(&out_dir)?;
    let svg_path = out_dir.join("digits_curves.svg");
    std::fs::write(&svg_path, curves_svg(&history))?;
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

/// The training curves as an SVG: the losses on the left, the accuracies (in %) on the right.
fn curves_svg(history: &[Epoch]) -> String {
    let col = |f: fn(&Epoch) -> f64| history.iter().map(f).collect::<Vec<f64>>();
    let losses = [
        (
            "train (mean over the epoch)",
            "#1f77b4",
            col(|e| e.train_loss),
        ),
        ("test (after the epoch)", "#ff7f0e", col(|e| e.test_loss)),
    ];
    let accuracies = [
        ("train", "#1f77b4", col(|e| 100.0 * e.train_acc)),
        ("test", "#ff7f0e", col(|e| 100.0 * e.test_acc)),
    ];
    let mut svg = String::from(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"360\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"900\" height=\"360\" fill=\"white\"/>\n",
    );
    panel(&mut svg, 70.0, "cross-entropy loss", &losses, true);
    panel(&mut svg, 520.0, "accuracy (%)", &accuracies, false);
    svg.push_str("</svg>\n");
    svg
}

/// A round step (1, 2 or 5 times a power of 10) that cuts `range` into at most `parts` parts.
fn nice_step(range: f64, parts: f64) -> f64 {
    let raw = range / parts;
    let power = 10_f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * power)
}

/// One plot of 340 x 250 at `(left, 40)`: frame, grid and tick labels on round values, the epoch
/// axis, a polyline per series and a legend.
fn panel(
    svg: &mut String,
    left: f64,
    title: &str,
    series: &[(&str, &str, Vec<f64>)],
    falling: bool,
) {
    let (top, w, h) = (40.0, 340.0, 250.0);
    let values = series.iter().flat_map(|s| s.2.iter().copied());
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    // Falling curves (losses) from 0 with the legend at the top; rising ones (accuracies) from a
    // round value below their minimum with the legend at the bottom.
    let from = if falling { 0.0 } else { min };
    let step = nice_step(max - from, 5.0);
    let (lo, hi) = ((from / step).floor() * step, (max / step).ceil() * step);
    let epochs = series[0].2.len();
    let x_at = |epoch: usize| left + w * (epoch - 1) as f64 / (epochs.max(2) - 1) as f64;
    let y_at = |v: f64| top + h * (hi - v) / (hi - lo);
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="25" text-anchor="middle" font-size="14">{title}</text>
<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#444"/>"##,
        left + w / 2.0
    );
    let mut v = lo;
    while v <= hi + step / 2.0 {
        let y = y_at(v);
        let _ = writeln!(
            svg,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            left + w,
            left - 6.0,
            y + 4.0,
            round_label(v, step)
        );
        v += step;
    }
    let epoch_step = nice_step(epochs as f64, 8.0).max(1.0) as usize;
    let ticks =
        std::iter::once(1).chain((epoch_step..=epochs).step_by(epoch_step).filter(|&e| e > 1));
    for epoch in ticks {
        let x = x_at(epoch);
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{0}" x2="{x:.1}" y2="{1}" stroke="#444"/><text x="{x:.1}" y="{2}" text-anchor="middle">{epoch}</text>"##,
            top + h,
            top + h + 5.0,
            top + h + 18.0,
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{}" text-anchor="middle">epoch</text>"#,
        left + w / 2.0,
        top + h + 36.0
    );
    for (k, (name, color, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| format!("{:.1},{:.1}", x_at(i + 1), y_at(v)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            points.join(" ")
        );
        let row = 18.0 * k as f64;
        let ly = if falling { top + 20.0 } else { top + h - 38.0 } + row;
        let lx = left + w - 220.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"/><text x="{}" y="{}">{name}</text>"#,
            lx + 24.0,
            lx + 30.0,
            ly + 4.0
        );
    }
}

/// A tick value with as many decimals as the step needs.
fn round_label(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}
