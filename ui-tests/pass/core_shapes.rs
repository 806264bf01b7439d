// The right shapes compile, build and run.
use shaped::{Rank1, Rank2, Rank3, Tape, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 3>> = Tensor::ones();
    let b: Tensor<Rank2<2, 3>> = Tensor::full(2.0);
    assert_eq!((&a + &b).sum().item(), 18.0);
    let r = a.reshape::<Rank3<3, 2, 1>>();
    assert_eq!(r.shape(), [3, 2, 1]);
    let s: Tensor<Rank1<3>> = b.sum_axis::<0>();
    assert_eq!(s.to_vec(), vec![4.0; 3]);
    let tape = Tape::new();
    let at = tape.watch(&a);
    let grads = (&at * &b).sum().backward();
    assert_eq!(grads.get(&at), b);
}
