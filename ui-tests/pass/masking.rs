// Comparisons, masks and the reductions that name axes, on static and run-time shapes.
use shaped::{Axes2, Axes3, Const, IndexTensor, Indices, Rank1, Rank2, Rank3, Tensor};

fn main() {
    let x = Tensor::from([[1.0, 5.0, 2.0], [4.0, 0.0, 4.0]]);
    let m = x.gt(2.0);
    assert_eq!(m.count(), 3);
    let y = m.select(&x, 0.0);
    assert_eq!(y.to_vec(), vec![0.0, 5.0, 0.0, 4.0, 0.0, 4.0]);
    assert_eq!(x.masked_fill(&m, -1.0).sum().item(), 0.0);

    // argmax gives indices into the axis it reduced.
    let best: Indices<Const<2>, Const<3>> = x.argmax_axis::<1>();
    assert_eq!(best.as_slice(), &[1, 0]);
    let rows: Tensor<(usize, Const<3>), f64> =
        Tensor::from_vec_with((2, Const), x.to_vec()).unwrap();
    let ids: Indices<usize, Const<3>> = rows.argmin_axis::<1>();
    assert_eq!(ids.as_slice(), &[0, 1]);
    // From rank 3 on, the positions have the reduced shape.
    let cube = Tensor::<Rank3<2, 3, 4>, f64>::from_fn(|[a, b, c]| ((a + 2 * b + 3 * c) % 5) as f64);
    let at: IndexTensor<Rank2<2, 4>, Const<3>> = cube.argmax_axis::<1>();
    assert_eq!(at.as_slice(), &[2, 0, 1, 0, 1, 0, 1, 2]);

    // Several axes at once, and the full reductions kept in the shape.
    let t = Tensor::<Rank3<2, 3, 4>, f64>::ones();
    let s: Tensor<Rank1<3>, f64> = t.sum_axes::<Axes2<0, 2>>();
    assert_eq!(s.to_vec(), vec![8.0; 3]);
    let k: Tensor<Rank3<1, 3, 1>, f64> = t.mean_axes_keepdim::<Axes2<0, 2>>();
    assert_eq!(k.to_vec(), vec![1.0; 3]);
    let all: Tensor<Rank3<1, 1, 1>, f64> = t.sum_keepdim();
    assert_eq!(all.to_vec(), vec![24.0]);
    let _: Tensor<(Const<1>, Const<1>), f64> = rows.mean_keepdim();
    let _ = t.sum_axes::<Axes3<0, 1, 2>>();

    // var and std with a correction.
    let v: Tensor<Rank1<2>, f64> = x.var_axis::<1>(1);
    assert!((v.to_vec()[0] - 13.0 / 3.0).abs() < 1e-12);
    let _: Tensor<Rank2<2, 3>, f64> = x;
    assert!(rows.std(0).item() > 0.0);
    let k: Tensor<(usize, Const<1>), f64> = rows.var_axis_keepdim::<1>(0.5);
    assert_eq!(k.shape(), [2, 1]);
}
