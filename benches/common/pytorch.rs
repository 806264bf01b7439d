//! Ratios to PyTorch measured interleaved: a PyTorch script in `--serve` mode (`scripts/bench_serve.py`)
//! times its side of a case on request, between rounds of ours, so that drift on a shared machine hits
//! both sides alike.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// The PyTorch side: a script answering `<case> <mode> <iters>` with a median time.
pub struct PyTorch {
    child: Child,
    answers: BufReader<ChildStdout>,
}

impl PyTorch {
    /// Starts `scripts/<script>` on one thread in `--serve` mode.
    pub fn start(script: &str) -> Self {
        let path = format!("{}/scripts/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("python3")
            .args([path.as_str(), "1", "--serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with torch is needed for the comparison");
        let answers = BufReader::new(child.stdout.take().expect("piped"));
        Self { child, answers }
    }

    /// PyTorch's median time of `case` in `mode`, over five rounds of `iters` calls.
    pub fn time(&mut self, case: &str, mode: &str, iters: u32) -> Duration {
        let stdin = self.child.stdin.as_mut().expect("piped");
        writeln!(stdin, "{case} {mode} {iters}").expect("the PyTorch script stopped");
        let mut line = String::new();
        self.answers
            .read_line(&mut line)
            .expect("the PyTorch script stopped");
        let us: f64 = line.trim().parse().expect("a time in microseconds");
        Duration::from_secs_f64(us * 1e-6)
    }

    /// Prints the header of the rows that [`compare`](Self::compare) prints, under `title`.
    pub fn header(title: &str) {
        println!("{title}; times in us (medians of 7 interleaved rounds)");
        println!(
            "{:<16} {:<17} {:>9} {:>9} {:>6} {:>9}",
            "case", "mode", "shaped", "pytorch", "ratio", "range"
        );
    }

    /// Alternates seven rounds of ours (`f`, `iters` calls a round) and PyTorch's, and prints both
    /// medians, the median ratio and the range of the per-round ratios.
    pub fn compare(&mut self, case: &str, mode: &str, iters: u32, mut f: impl FnMut()) {
        let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..7 {
            let a = median_time(iters, &mut f);
            let b = self.time(case, mode, iters);
            ratios.push(a.as_secs_f64() / b.as_secs_f64());
            ours.push(a);
            theirs.push(b);
        }
        ours.sort();
        theirs.sort();
        ratios.sort_by(f64::total_cmp);
        println!(
            "{case:<16} {mode:<17} {:>9.1} {:>9.1} {:>6.2} {:>5.2}-{:.2}",
            ours[3].as_secs_f64() * 1e6,
            theirs[3].as_secs_f64() * 1e6,
            ratios[3],
            ratios[0],
            ratios[6],
        );
    }
}

impl Drop for PyTorch {
    /// Closes the script's input, which ends it, and waits for it.
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Median time per call of `f` over five rounds of `iters` calls, after one round of warm-up.
fn median_time(iters: u32, mut f: impl FnMut()) -> Duration {
    let mut rounds = [Duration::ZERO; 6];
    for r in &mut rounds {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        *r = start.elapsed() / iters;
    }
    let rounds = &mut rounds[1..];
    rounds.sort();
    rounds[rounds.len() / 2]
}
