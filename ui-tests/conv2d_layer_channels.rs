// A convolution layer takes images with its input channels: a layer made for RGB images (3 channels)
// cannot be fed grey ones (1 channel).
use shaped::nn::Conv2d;
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{NoTape, Rank4, Tensor};

fn main() {
    let layer: Conv2d<3, 16, 3, f32, NoTape, 1, 1> = Conv2d::new(&mut StdRng::seed_from_u64(0));
    let x: Tensor<Rank4<8, 1, 32, 32>> = Tensor::zeros();
    let _: Tensor<Rank4<8, 16, 32, 32>> = layer.forward(x);
}
