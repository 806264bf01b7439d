// gather on static and run-time shapes, with an index smaller than the input off the axis.
use shaped::{Axis, Const, IndexTensor, Rank2, Rank3, Tensor};

fn main() {
    let x = Tensor::<Rank3<2, 3, 4>, f64>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f64);
    let index = IndexTensor::<Rank3<1, 2, 4>, Const<3>>::from_slice(&[2, 0, 1, 2, 0, 0, 0, 1]).unwrap();
    let y: Tensor<Rank3<1, 2, 4>, f64> = x.gather(Axis::<1>, &index);
    assert_eq!(y.to_vec(), vec![20.0, 1.0, 12.0, 23.0, 0.0, 1.0, 2.0, 13.0]);

    let rows: Tensor<(usize, Const<2>), f64> =
        Tensor::from_vec_with((3, Const), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    let pick = IndexTensor::<Rank2<2, 2>, usize>::from_slice_with(Rank2, 3, &[2, 1, 0, 0]).unwrap();
    let z: Tensor<Rank2<2, 2>, f64> = rows.gather(Axis::<0>, &pick);
    assert_eq!(z.to_vec(), vec![5.0, 4.0, 1.0, 2.0]);
}
