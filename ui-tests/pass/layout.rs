// Layout ops and reductions on fitting shapes compile, build and run, including broadcasts that
// stretch axes of size 1 (checked by a const assertion at build time).
use shaped::{Axes3, Axes4, Rank0, Rank1, Rank2, Rank3, Rank4, Rank6, Tape, Tensor};

fn main() {
    // broadcast: a new leading axis, a size-1 stretch in the middle, a size-1 stretch at the end
    let row: Tensor<Rank1<3>> = Tensor::from([1.0, 2.0, 3.0]);
    let b = row.broadcast_to::<Rank2<2, 3>>();
    assert_eq!(b.to_array(), [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]);
    let col: Tensor<Rank2<2, 1>> = Tensor::from([[1.0], [2.0]]);
    assert_eq!(col.broadcast_to::<Rank2<2, 3>>().to_array(), [[1.0; 3], [2.0; 3]]);
    let mid: Tensor<Rank3<2, 1, 3>> = Tensor::ones();
    assert_eq!(mid.broadcast_to::<Rank4<5, 2, 4, 3>>().shape(), [5, 2, 4, 3]);
    let s: Tensor<Rank0> = Tensor::from(1.5_f32);
    assert_eq!(s.broadcast_to::<Rank6<1, 2, 1, 2, 1, 2>>().sum().item(), 12.0);

    // transpose and permute
    let m: Tensor<Rank2<2, 3>> = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let t: Tensor<Rank2<3, 2>> = m.transpose();
    assert_eq!(t[[2, 1]], 6.0);
    let x: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    let p: Tensor<Rank3<4, 2, 3>> = x.permute::<Axes3<2, 0, 1>>();
    assert_eq!(p.shape(), [4, 2, 3]);
    let y: Tensor<Rank4<1, 2, 3, 4>> = Tensor::zeros();
    let q: Tensor<Rank4<4, 3, 2, 1>> = y.permute::<Axes4<3, 2, 1, 0>>();
    assert_eq!(q.shape(), [4, 3, 2, 1]);

    // reductions
    let r: Tensor<Rank1<2>> = m.mean_axis::<1>();
    assert_eq!(r.to_array(), [2.0, 5.0]);
    let mx: Tensor<Rank2<1, 3>> = m.max_axis_keepdim::<0>();
    assert_eq!(mx.to_array(), [[4.0, 5.0, 6.0]]);
    let l: Tensor<Rank1<2>> = m.logsumexp_axis::<1>();
    assert!(l.as_slice().iter().all(|v| v.is_finite()));
    let sm: Tensor<Rank2<2, 3>> = m.softmax::<1>();
    assert!((sm.sum().item() - 2.0).abs() < 1e-6);

    // gradients through a broadcast: a bias row added to every row. Each row of logits is 1 + bias,
    // so d mean(log_softmax) / d bias_j = 4 (1 - 3 softmax(bias)_j) / 12, and the gradient sums to 0
    // (log_softmax does not change when a row is shifted).
    let bias: Tensor<Rank1<3>, f64> = Tensor::from([0.1, 0.2, 0.3]);
    let data: Tensor<Rank2<4, 3>, f64> = Tensor::ones();
    let tape = Tape::new();
    let bt = tape.watch(&bias);
    let out = (data + bt.broadcast_to::<Rank2<4, 3>>()).log_softmax::<1>();
    let grads = out.mean().backward();
    let gb: Tensor<Rank1<3>, f64> = grads.get(&bt);
    let want = bias.softmax::<0>().map(|p| (1.0 - 3.0 * p) / 3.0);
    assert!(gb.as_slice().iter().zip(want.as_slice()).all(|(g, w)| (g - w).abs() < 1e-12));
    assert!(gb.as_slice()[0] > 0.0 && gb.as_slice()[2] < 0.0);
    assert!(gb.sum().item().abs() < 1e-12);
}
