// A model over sequences written once for any batch `B: Dim` and any length: two Conv1d layers on
// `(B, Const<8>, usize)`, trained on a static batch and run on sequences of lengths known only at run
// time, with the output length computed by PyTorch's rule.
use shaped::nn::{Conv1d, Forward, Out, ReLU};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Const, Dim, Module, NoTape, Tensor, Tracking};

#[derive(Module)]
struct Seq<T: Tracking<f32> = NoTape> {
    c1: Conv1d<8, 4, 3, f32, T, 1, 1>,
    c2: Conv1d<4, 2, 3, f32, T, 2>,
}

impl<T: Tracking<f32>> Seq<T> {
    // c1 keeps the length L ("same" padding), c2 gives (L - 3) / 2 + 1.
    fn forward<B: Dim>(&self, x: Tensor<(B, Const<8>, usize)>) -> Tensor<(B, Const<2>, usize), f32, T> {
        let h: Tensor<(B, Const<4>, usize), f32, T> = self.c1.forward(x);
        self.c2.forward(h.relu())
    }
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let model = Seq { c1: Conv1d::new(&mut rng), c2: Conv1d::new(&mut rng) };
    let x: Tensor<(Const<2>, Const<8>, usize)> = Tensor::ones_with((Const, Const, 11));
    let (_, g): (f32, SeqGrads) = model.value_and_grad(|m| m.forward(x.clone()).sum());
    assert_eq!(g.c1.weight.shape(), [4, 8, 3]);
    for (len, out) in [(3, 1), (4, 1), (5, 2), (100, 49)] {
        let x: Tensor<(usize, Const<8>, usize)> = Tensor::zeros_with((5, Const, len));
        assert_eq!(model.forward(x).shape(), [5, 2, out]);
    }

    // The same layer in a tuple, its output per sample written with a run-time length.
    let seq: (Out<Conv1d<8, 4, 3>, (Const<4>, usize)>, ReLU) = (Out::new(Conv1d::zeros()), ReLU);
    let y: Tensor<(usize, Const<4>, usize)> = seq.forward(Tensor::zeros_with((3, Const, 7)));
    assert_eq!(y.shape(), [3, 4, 5]);
}
