// Every elementwise arithmetic op and activation builds and runs on f32 and f64, owned and borrowed,
// off and on a tape, and in code generic over the element type.
use shaped::{Const, Element, Rank1, Rank2, Shape, Tape, Tensor, Tracking};

fn all_ops<S: Shape, E: Element, T: Tracking<E>>(
    a: &Tensor<S, E, T>,
    b: &Tensor<S, E, T>,
) -> Tensor<S, E, T> {
    let two = E::one() + E::one();
    let x = (a - b) + (a / b) + (-a) + a.abs() + a.ln() + a.sqrt();
    let x = x + a.powi(2) + a.powf(two) + a.relu() + a.sigmoid() + a.tanh();
    let x = x - two + (a.clone() - b.clone()) / two - (a * two) / b.clone();
    -x
}

fn main() {
    let a32: Tensor<Rank2<1, 2>, f32> = Tensor::from([[1.0, 4.0]]);
    let b32: Tensor<Rank2<1, 2>, f32> = Tensor::from([[2.0, 8.0]]);
    assert_eq!((&a32 - &b32).to_array(), [[-1.0, -4.0]]);
    assert_eq!((a32.clone() - 1.0).to_array(), [[0.0, 3.0]]);
    assert_eq!((1.0_f32 - &a32).to_array(), [[0.0, -3.0]]);
    assert_eq!((&a32 / &b32).to_array(), [[0.5, 0.5]]);
    assert_eq!((&a32 / 2.0).to_array(), [[0.5, 2.0]]);
    assert_eq!((8.0_f32 / &b32).to_array(), [[4.0, 1.0]]);
    assert_eq!((-&a32).to_array(), [[-1.0, -4.0]]);
    assert_eq!((-a32.clone()).abs().to_array(), [[1.0, 4.0]]);
    assert_eq!(a32.ln().to_array()[0][0], 0.0);
    assert_eq!(a32.sqrt().to_array(), [[1.0, 2.0]]);
    assert_eq!(a32.powi(2).to_array(), [[1.0, 16.0]]);
    assert_eq!(a32.powf(0.5).to_array(), [[1.0, 2.0]]);
    assert_eq!((-&a32).relu().to_array(), [[0.0, 0.0]]);
    assert_eq!((&a32 - 1.0).sigmoid().to_array()[0][0], 0.5);
    assert_eq!((&a32 - 1.0).tanh().to_array()[0][0], 0.0);
    assert!(all_ops(&a32, &b32).to_vec().iter().all(|v| v.is_finite()));

    let a64: Tensor<Rank1<3>, f64> = Tensor::from([1.0, 2.0, 3.0]);
    let b64: Tensor<Rank1<3>, f64> = Tensor::from([4.0, 5.0, 6.0]);
    assert_eq!((&a64 / &b64).to_vec(), vec![0.25, 0.4, 0.5]);
    assert_eq!((-&a64 - 1.0).relu().to_vec(), vec![0.0; 3]);
    assert!(all_ops(&a64, &b64).to_vec().iter().all(|v| v.is_finite()));

    // On a tape: d/da sum(a / b - a) = 1/b - 1.
    let tape = Tape::new();
    let at = tape.watch(&a64);
    let y = (&at / &b64 - &at).sum();
    assert_eq!(
        y.backward().get(&at).to_vec(),
        vec![-0.75, -0.8, 1.0 / 6.0 - 1.0]
    );
    let tape = Tape::<f32>::new();
    let (at, bt) = (tape.watch(&a32), tape.watch(&b32));
    let g = all_ops(&at, &bt).sum().backward();
    assert!(g.get(&at).to_vec().iter().all(|v| v.is_finite()));
    assert!(g.get(&bt).to_vec().iter().all(|v| v.is_finite()));

    // Broadcasting: a row added to every row of a matrix, either side, static or run-time batch.
    let m: Tensor<Rank2<2, 3>> = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let row: Tensor<Rank1<3>> = Tensor::from([1.0, 1.0, 1.0]);
    let y: Tensor<Rank2<2, 3>> = &m - &row;
    assert_eq!(y.to_array(), [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]);
    let y: Tensor<Rank2<2, 3>> = &row * &m;
    assert_eq!(y.to_array()[1], [4.0, 5.0, 6.0]);
    let batch: Tensor<(usize, Const<3>)> = Tensor::full_with((4, Const), 2.0);
    let y: Tensor<(usize, Const<3>)> = &batch / &row;
    assert_eq!(y.shape(), [4, 3]);
}
