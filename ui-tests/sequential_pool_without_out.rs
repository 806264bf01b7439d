// A pooling's output size is written by its caller: in a tuple of layers it stands in an `Out` with
// the output shape of one sample (`Out<MaxPool2d<2>, Rank3<4, 3, 3>>`), not bare.
use shaped::nn::{Conv2d, Forward, MaxPool2d, Out, ReLU};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Rank3, Rank4, Tensor};

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let model: (Out<Conv2d<1, 4, 3>, Rank3<4, 6, 6>>, ReLU, MaxPool2d<2>) =
        (Out::new(Conv2d::new(&mut rng)), ReLU, MaxPool2d);
    let x: Tensor<Rank4<2, 1, 8, 8>> = Tensor::zeros();
    let _ = model.forward(x);
}
