// A tensor moves between the static and the tuple form of its shape on a tape, and a static batch
// of labels meets run-time logits; code generic over the batch passes labels of its own batch.
use shaped::nn::{Labels, accuracy, cross_entropy, nll_loss, Mean};
use shaped::{Const, Dim, Rank2, Tape, Tensor};

fn loss<B: Dim>(logits: &Tensor<(B, Const<3>), f64, Tape<f64>>, labels: &Labels<B, 3>) -> f64 {
    cross_entropy(logits, labels).item()
}

fn main() {
    let x: Tensor<Rank2<2, 3>, f64> = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let back: Tensor<Rank2<2, 3>, f64, Tape<f64>> = (xt.clone().into_dims() * 2.0).into_static();
    let grads = back.sum().backward();
    assert_eq!(grads.get(&xt).to_vec(), vec![2.0; 6]);

    let rows: Tensor<(usize, Const<3>), f64> =
        Tensor::from_vec_with((2, Const), x.to_vec()).unwrap();
    let fixed: Tensor<Rank2<2, 3>, f64> = rows.clone().try_into_static().unwrap();
    assert_eq!(fixed, x);

    let labels: Labels<Const<2>, 3> = Labels::new([2, 0]).unwrap();
    let a = cross_entropy(&rows, &labels).item();
    assert_eq!(a, cross_entropy(&x, &labels).item());
    assert_eq!(accuracy(&rows, &labels), 0.5);
    let _ = nll_loss(&rows.log_softmax::<1>(), &labels, Mean);
    let tape = Tape::new();
    assert_eq!(loss(&tape.watch(&x).into_dims(), &labels), a);
}
