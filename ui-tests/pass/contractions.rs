// Every form of matmul, inner, linear and bilinear compiles, builds and runs with the right shapes,
// on and off a tape, and with f32 and f64.
use shaped::{NoBias, Rank0, Rank1, Rank2, Rank3, Rank4, Rank5, Rank6, Tape, Tensor};

fn matmul_forms() {
    let v: Tensor<Rank1<3>> = Tensor::ones();
    let m: Tensor<Rank2<2, 3>> = Tensor::ones();
    let n: Tensor<Rank2<3, 4>> = Tensor::ones();
    let b3: Tensor<Rank3<5, 2, 3>> = Tensor::ones();
    let r3: Tensor<Rank3<5, 3, 4>> = Tensor::ones();
    let b4: Tensor<Rank4<6, 5, 2, 3>> = Tensor::ones();
    let r4: Tensor<Rank4<6, 5, 3, 4>> = Tensor::ones();

    let _: Tensor<Rank0> = v.matmul(&v);
    let _: Tensor<Rank1<4>> = v.matmul(&n);
    let _: Tensor<Rank1<2>> = m.matmul(&v);
    let _: Tensor<Rank2<2, 4>> = m.matmul(&n);
    let _: Tensor<Rank3<5, 2, 4>> = b3.matmul(&r3);
    let _: Tensor<Rank3<5, 2, 4>> = b3.matmul(&n);
    let _: Tensor<Rank2<5, 2>> = b3.matmul(&v);
    let _: Tensor<Rank3<5, 2, 4>> = m.matmul(&r3);
    let _: Tensor<Rank2<5, 4>> = v.matmul(&r3);
    let _: Tensor<Rank4<6, 5, 2, 4>> = b4.matmul(&r4);
    let _: Tensor<Rank4<6, 5, 2, 4>> = b4.matmul(&n);
    let _: Tensor<Rank3<6, 5, 2>> = b4.matmul(&v);
    let _: Tensor<Rank4<6, 5, 2, 4>> = m.matmul(&r4);
    let c: Tensor<Rank3<6, 5, 4>> = v.matmul(&r4);
    assert_eq!(c.to_vec(), vec![3.0; 120]);
    // batch axes of different ranks align on the last one; a static 1 repeats with matmul_to
    let _: Tensor<Rank4<6, 5, 2, 4>> = b4.matmul(&r3);
    let _: Tensor<Rank4<6, 5, 2, 4>> = b3.matmul(&r4);
    let one: Tensor<Rank4<6, 1, 2, 3>> = Tensor::ones();
    let d: Tensor<Rank4<6, 5, 2, 4>> = one.matmul_to(&r3);
    assert_eq!(d.to_vec(), vec![3.0; 240]);

    let a64: Tensor<Rank2<2, 2>, f64> = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!(a64.matmul(&a64).to_array(), [[7.0, 10.0], [15.0, 22.0]]);
    let tape = Tape::new();
    let (b3t, nt) = (tape.watch(&b3), tape.watch(&n));
    let g = b3t.matmul(&nt).sum().backward();
    let _: Tensor<Rank3<5, 2, 3>> = g.get(&b3t);
    let _: Tensor<Rank2<3, 4>> = g.get(&nt);
}

fn inner_forms() {
    let a1: Tensor<Rank1<4>, f64> = Tensor::ones();
    let a2: Tensor<Rank2<2, 4>, f64> = Tensor::ones();
    let a3: Tensor<Rank3<3, 2, 4>, f64> = Tensor::ones();
    let a4: Tensor<Rank4<2, 3, 2, 4>, f64> = Tensor::ones();
    let _: Tensor<Rank0, f64> = a1.inner(&a1);
    let _: Tensor<Rank1<2>, f64> = a1.inner(&a2);
    let _: Tensor<Rank2<3, 2>, f64> = a1.inner(&a3);
    let _: Tensor<Rank3<2, 3, 2>, f64> = a1.inner(&a4);
    let _: Tensor<Rank1<2>, f64> = a2.inner(&a1);
    let _: Tensor<Rank2<2, 2>, f64> = a2.inner(&a2);
    let _: Tensor<Rank3<2, 3, 2>, f64> = a2.inner(&a3);
    let _: Tensor<Rank4<2, 2, 3, 2>, f64> = a2.inner(&a4);
    let _: Tensor<Rank2<3, 2>, f64> = a3.inner(&a1);
    let _: Tensor<Rank3<3, 2, 2>, f64> = a3.inner(&a2);
    let _: Tensor<Rank4<3, 2, 3, 2>, f64> = a3.inner(&a3);
    let _: Tensor<Rank5<3, 2, 2, 3, 2>, f64> = a3.inner(&a4);
    let _: Tensor<Rank3<2, 3, 2>, f64> = a4.inner(&a1);
    let _: Tensor<Rank4<2, 3, 2, 2>, f64> = a4.inner(&a2);
    let _: Tensor<Rank5<2, 3, 2, 3, 2>, f64> = a4.inner(&a3);
    let big: Tensor<Rank6<2, 3, 2, 2, 3, 2>, f64> = a4.inner(&a4);
    assert_eq!(big.to_vec(), vec![4.0; 144]);
}

fn linear_forms() {
    let w: Tensor<Rank2<5, 3>> = Tensor::ones();
    let b: Tensor<Rank1<5>> = Tensor::ones();
    let b_row: Tensor<Rank2<1, 5>> = Tensor::ones();
    let x1: Tensor<Rank1<3>> = Tensor::ones();
    let x2: Tensor<Rank2<4, 3>> = Tensor::ones();
    let x3: Tensor<Rank3<2, 4, 3>> = Tensor::ones();
    let x4: Tensor<Rank4<2, 2, 4, 3>> = Tensor::ones();
    let _: Tensor<Rank1<5>> = x1.linear(&w, &b);
    let _: Tensor<Rank2<4, 5>> = x2.linear(&w, &b_row);
    let _: Tensor<Rank3<2, 4, 5>> = x3.linear(&w, NoBias);
    let y: Tensor<Rank4<2, 2, 4, 5>> = x4.linear(&w, &b);
    assert_eq!(y.to_vec(), vec![4.0; 80]);

    let tape = Tape::new();
    let (wt, bt) = (tape.watch(&w), tape.watch(&b_row));
    let g = x3.linear(&wt, &bt).sum().backward();
    let _: Tensor<Rank2<5, 3>> = g.get(&wt);
    let gb: Tensor<Rank2<1, 5>> = g.get(&bt);
    assert_eq!(gb.to_vec(), vec![8.0; 5]);
}

fn bilinear_forms() {
    let w: Tensor<Rank3<2, 3, 4>, f64> = Tensor::ones();
    let b: Tensor<Rank1<2>, f64> = Tensor::zeros();
    let b_row: Tensor<Rank2<1, 2>, f64> = Tensor::zeros();
    let (p1, q1): (Tensor<Rank1<3>, f64>, Tensor<Rank1<4>, f64>) = (Tensor::ones(), Tensor::ones());
    let (p2, q2): (Tensor<Rank2<5, 3>, f64>, Tensor<Rank2<5, 4>, f64>) =
        (Tensor::ones(), Tensor::ones());
    let (p3, q3): (Tensor<Rank3<2, 5, 3>, f64>, Tensor<Rank3<2, 5, 4>, f64>) =
        (Tensor::ones(), Tensor::ones());
    let (p4, q4): (
        Tensor<Rank4<2, 2, 5, 3>, f64>,
        Tensor<Rank4<2, 2, 5, 4>, f64>,
    ) = (Tensor::ones(), Tensor::ones());
    let y: Tensor<Rank1<2>, f64> = p1.bilinear(&q1, &w, &b);
    assert_eq!(y.to_array(), [12.0, 12.0]);
    let _: Tensor<Rank2<5, 2>, f64> = p2.bilinear(&q2, &w, &b_row);
    let _: Tensor<Rank3<2, 5, 2>, f64> = p3.bilinear(&q3, &w, NoBias);
    let _: Tensor<Rank4<2, 2, 5, 2>, f64> = p4.bilinear(&q4, &w, &b);

    let tape = Tape::new();
    let (p2t, q2t) = (tape.watch(&p2), tape.watch(&q2));
    let (wt, bt) = (tape.watch(&w), tape.watch(&b));
    let g = p2t.bilinear(&q2t, &wt, &bt).sum().backward();
    let _: Tensor<Rank2<5, 3>, f64> = g.get(&p2t);
    let _: Tensor<Rank2<5, 4>, f64> = g.get(&q2t);
    let _: Tensor<Rank3<2, 3, 4>, f64> = g.get(&wt);
    let _: Tensor<Rank1<2>, f64> = g.get(&bt);
}

fn main() {
    matmul_forms();
    inner_forms();
    linear_forms();
    bilinear_forms();
}
