//! The training curves of the digits classifiers as an SVG (used by the `digits`, `cnn` and
//! `attention` examples).

use std::fmt::Write as _;

use crate::model::Epoch;

/// The training curves as an SVG: the losses on the left, the accuracies (in %) on the right.
pub fn curves_svg(history: &[Epoch]) -> String {
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
