// In a tuple of layers each layer takes the previous one's output: the flattened 4 x 3 x 3 features
// are 36 wide, and a Linear that takes 32 cannot follow them.
use shaped::nn::{Conv2d, Flatten, Forward, Linear, MaxPool2d, Out, ReLU};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Rank1, Rank3, Rank4, Tensor};

type Cnn = (
    Out<Conv2d<1, 4, 3>, Rank3<4, 6, 6>>,
    ReLU,
    Out<MaxPool2d<2>, Rank3<4, 3, 3>>,
    Out<Flatten, Rank1<36>>,
    Linear<32, 10>,
);

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let model: Cnn = (Out::new(Conv2d::new(&mut rng)), ReLU, Out::new(MaxPool2d), Out::new(Flatten), Linear::new(&mut rng));
    let x: Tensor<Rank4<2, 1, 8, 8>> = Tensor::zeros();
    let _ = model.forward(x);
}
