// The output shape written in an `Out` is checked by the layer's own `const` assertion (reported by
// `cargo build`): a 3 x 3 convolution without padding takes 8 x 8 to 6 x 6, not 8 x 8.
use shaped::nn::{Conv2d, Forward, Out, ReLU};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Rank3, Rank4, Tensor};

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let model: (Out<Conv2d<1, 4, 3>, Rank3<4, 8, 8>>, ReLU) = (Out::new(Conv2d::new(&mut rng)), ReLU);
    let x: Tensor<Rank4<2, 1, 8, 8>> = Tensor::zeros();
    let _ = model.forward(x);
}
