//! Hand-written training steps: the same models as the crate's benches, written directly on
//! `matrixmultiply` with a manual backward pass and every buffer allocated once. They are the yardstick
//! the crate's training step is measured against.

/// `C = alpha * A B + beta * C` for row-major or strided matrices given as slices.
#[allow(clippy::too_many_arguments, clippy::cast_possible_wrap)]
fn sgemm(
    (m, k, n): (usize, usize, usize),
    a: &[f32],
    (rsa, csa): (usize, usize),
    b: &[f32],
    (rsb, csb): (usize, usize),
    beta: f32,
    c: &mut [f32],
    rsc: usize,
) {
    if m == 0 || n == 0 || k == 0 {
        // Every caller has positive sizes; an empty product is refused rather than special-cased.
        panic!("sgemm: empty product {m} x {k} x {n}");
    }
    let last = |rows: usize, rs: usize, cols: usize, cs: usize| {
        (rows - 1)
            .checked_mul(rs)
            .and_then(|r| (cols - 1).checked_mul(cs).and_then(|c| r.checked_add(c)))
    };
    assert!(last(m, rsa, k, csa).is_some_and(|l| l < a.len()));
    assert!(last(k, rsb, n, csb).is_some_and(|l| l < b.len()));
    assert!(last(m, rsc, n, 1).is_some_and(|l| l < c.len()) && rsc >= n);
    assert!(
        [rsa, csa, rsb, csb, rsc]
            .iter()
            .all(|&s| isize::try_from(s).is_ok())
    );
    // SAFETY: the asserts above keep every element of A (m x k), B (k x n) and C (m x n, row stride
    // rsc >= n, column stride 1, so no two elements alias) inside its slice, computed without overflow,
    // and every stride fits `isize`; `c` is a unique borrow.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            rsc as isize,
            1,
        );
    }
}

/// `y = x W^T + b` for `x: [rows, n_in]`, `W: [n_out, n_in]`.
fn linear_forward(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    y: &mut [f32],
    rows: usize,
    n_in: usize,
    n_out: usize,
) {
    for row in y.chunks_exact_mut(n_out) {
        row.copy_from_slice(b);
    }
    sgemm(
        (rows, n_in, n_out),
        x,
        (n_in, 1),
        w,
        (1, n_in),
        1.0,
        y,
        n_out,
    );
}

/// `dW = dy^T x` (overwritten), `db = column sums of dy`.
fn linear_param_grads(
    dy: &[f32],
    x: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    rows: usize,
    n_in: usize,
    n_out: usize,
) {
    sgemm(
        (n_out, rows, n_in),
        dy,
        (1, n_out),
        x,
        (n_in, 1),
        0.0,
        dw,
        n_in,
    );
    db.fill(0.0);
    for row in dy.chunks_exact(n_out) {
        for (d, &g) in db.iter_mut().zip(row) {
            *d += g;
        }
    }
}

/// `dx = dy W` (overwritten).
fn linear_input_grad(
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    rows: usize,
    n_in: usize,
    n_out: usize,
) {
    sgemm(
        (rows, n_out, n_in),
        dy,
        (n_out, 1),
        w,
        (n_in, 1),
        0.0,
        dx,
        n_in,
    );
}

fn sgd(p: &mut [f32], g: &[f32], lr: f32) {
    for (p, &g) in p.iter_mut().zip(g) {
        *p -= lr * g;
    }
}

/// An MLP `IN -> HID -> ReLU -> OUT` trained with cross-entropy from logits and plain SGD.
pub struct Mlp {
    pub dims: (usize, usize, usize, usize),
    pub w1: Vec<f32>,
    pub b1: Vec<f32>,
    pub w2: Vec<f32>,
    pub b2: Vec<f32>,
    h_pre: Vec<f32>,
    h: Vec<f32>,
    logits: Vec<f32>,
    dh: Vec<f32>,
    dw1: Vec<f32>,
    db1: Vec<f32>,
    dw2: Vec<f32>,
    db2: Vec<f32>,
}

impl Mlp {
    /// `dims = (batch, in, hidden, out)`; weights as `nn.Linear` lays them out.
    pub fn new(
        dims: (usize, usize, usize, usize),
        w1: Vec<f32>,
        b1: Vec<f32>,
        w2: Vec<f32>,
        b2: Vec<f32>,
    ) -> Self {
        let (batch, n_in, hid, out) = dims;
        Self {
            dims,
            w1,
            b1,
            w2,
            b2,
            h_pre: vec![0.0; batch * hid],
            h: vec![0.0; batch * hid],
            logits: vec![0.0; batch * out],
            dh: vec![0.0; batch * hid],
            dw1: vec![0.0; hid * n_in],
            db1: vec![0.0; hid],
            dw2: vec![0.0; out * hid],
            db2: vec![0.0; out],
        }
    }

    /// One step on a batch; returns the loss before the update.
    pub fn step(&mut self, x: &[f32], labels: &[usize], lr: f32) -> f32 {
        let (batch, n_in, hid, out) = self.dims;
        linear_forward(x, &self.w1, &self.b1, &mut self.h_pre, batch, n_in, hid);
        for (h, &p) in self.h.iter_mut().zip(&self.h_pre) {
            *h = p.max(0.0);
        }
        linear_forward(
            &self.h,
            &self.w2,
            &self.b2,
            &mut self.logits,
            batch,
            hid,
            out,
        );
        // Softmax cross-entropy; the logits buffer becomes d(loss)/d(logits).
        let mut loss = 0.0;
        let scale = 1.0 / batch as f32;
        for (row, &label) in self.logits.chunks_exact_mut(out).zip(labels) {
            let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let mut s = 0.0;
            for v in row.iter_mut() {
                *v = (*v - m).exp();
                s += *v;
            }
            loss += s.ln() - (row[label].ln());
            for v in row.iter_mut() {
                *v *= scale / s;
            }
            row[label] -= scale;
        }
        let dlogits = &self.logits;
        linear_param_grads(
            dlogits,
            &self.h,
            &mut self.dw2,
            &mut self.db2,
            batch,
            hid,
            out,
        );
        linear_input_grad(dlogits, &self.w2, &mut self.dh, batch, hid, out);
        for (d, &p) in self.dh.iter_mut().zip(&self.h_pre) {
            if p <= 0.0 {
                *d = 0.0;
            }
        }
        linear_param_grads(&self.dh, x, &mut self.dw1, &mut self.db1, batch, n_in, hid);
        sgd(&mut self.w1, &self.dw1, lr);
        sgd(&mut self.b1, &self.db1, lr);
        sgd(&mut self.w2, &self.dw2, lr);
        sgd(&mut self.b2, &self.db2, lr);
        loss * scale
    }
}

/// An MLP `IN -> H -> ReLU -> H -> ReLU -> 1` trained with mean squared error and plain SGD.
pub struct Tiny {
    pub dims: (usize, usize, usize),
    pub w: [Vec<f32>; 3],
    pub b: [Vec<f32>; 3],
    pre: [Vec<f32>; 2],
    act: [Vec<f32>; 2],
    y: Vec<f32>,
    d: [Vec<f32>; 2],
    dw: [Vec<f32>; 3],
    db: [Vec<f32>; 3],
}

impl Tiny {
    /// `dims = (batch, in, hidden)`; `w`/`b` for the three layers in `nn.Linear` layout.
    pub fn new(dims: (usize, usize, usize), w: [Vec<f32>; 3], b: [Vec<f32>; 3]) -> Self {
        let (batch, n_in, hid) = dims;
        let z = |n| vec![0.0; n];
        Self {
            dims,
            w,
            b,
            pre: [z(batch * hid), z(batch * hid)],
            act: [z(batch * hid), z(batch * hid)],
            y: z(batch),
            d: [z(batch * hid), z(batch * hid)],
            dw: [z(hid * n_in), z(hid * hid), z(hid)],
            db: [z(hid), z(hid), z(1)],
        }
    }

    /// One step on a batch; returns the loss before the update.
    pub fn step(&mut self, x: &[f32], target: &[f32], lr: f32) -> f32 {
        let (batch, n_in, hid) = self.dims;
        linear_forward(
            x,
            &self.w[0],
            &self.b[0],
            &mut self.pre[0],
            batch,
            n_in,
            hid,
        );
        for (a, &p) in self.act[0].iter_mut().zip(&self.pre[0]) {
            *a = p.max(0.0);
        }
        linear_forward(
            &self.act[0],
            &self.w[1],
            &self.b[1],
            &mut self.pre[1],
            batch,
            hid,
            hid,
        );
        for (a, &p) in self.act[1].iter_mut().zip(&self.pre[1]) {
            *a = p.max(0.0);
        }
        linear_forward(
            &self.act[1],
            &self.w[2],
            &self.b[2],
            &mut self.y,
            batch,
            hid,
            1,
        );
        // MSE; `y` becomes d(loss)/d(y).
        let scale = 1.0 / batch as f32;
        let mut loss = 0.0;
        for (y, &t) in self.y.iter_mut().zip(target) {
            let e = *y - t;
            loss += e * e;
            *y = 2.0 * e * scale;
        }
        let [d0, d1] = &mut self.d;
        linear_param_grads(
            &self.y,
            &self.act[1],
            &mut self.dw[2],
            &mut self.db[2],
            batch,
            hid,
            1,
        );
        linear_input_grad(&self.y, &self.w[2], d1, batch, hid, 1);
        for (d, &p) in d1.iter_mut().zip(&self.pre[1]) {
            if p <= 0.0 {
                *d = 0.0;
            }
        }
        linear_param_grads(
            d1,
            &self.act[0],
            &mut self.dw[1],
            &mut self.db[1],
            batch,
            hid,
            hid,
        );
        linear_input_grad(d1, &self.w[1], d0, batch, hid, hid);
        for (d, &p) in d0.iter_mut().zip(&self.pre[0]) {
            if p <= 0.0 {
                *d = 0.0;
            }
        }
        linear_param_grads(d0, x, &mut self.dw[0], &mut self.db[0], batch, n_in, hid);
        for i in 0..3 {
            sgd(&mut self.w[i], &self.dw[i], lr);
            sgd(&mut self.b[i], &self.db[i], lr);
        }
        loss * scale
    }
}
