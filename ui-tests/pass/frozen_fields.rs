// Fields of a trainable model that do not use `T`: marked `#[module(frozen)]` when they hold
// parameters; a layer without parameters (Dropout) and a skipped setting need no attribute.
use shaped::nn::{Dropout, LayerNormNoAffine, Linear};
use shaped::{Element, Module, NoTape, Rank1, Tensor, Tracking};

// A frozen field is cloned into the model on the tape: its type is `Clone`.
#[derive(Module, Clone)]
struct Inner {
    l: Linear<2, 2, f64>,
}

#[derive(Module)]
struct Net<T: Tracking<f64> = NoTape> {
    head: Linear<2, 2, f64, T>,
    #[module(frozen)]
    scale: Tensor<Rank1<2>, f64>,
    #[module(frozen)]
    inner: Inner,
    drop: Dropout<f64>,
    norm: LayerNormNoAffine<2, f64>,
    #[module(skip)]
    name: String,
}

// Generic over the size and element type as well: the check sees through `Dropout<E>`.
#[derive(Module)]
struct Generic<const N: usize, E: Element, T: Tracking<E> = NoTape> {
    #[module(frozen)]
    body: Linear<N, N, E>,
    drop: Dropout<E>,
    out: Linear<N, 1, E, T>,
}

fn main() {
    let net = Net {
        head: Linear::zeros(),
        scale: Tensor::ones(),
        inner: Inner { l: Linear::zeros() },
        drop: Dropout::new(0.0, 0),
        norm: LayerNormNoAffine::new(),
        name: "net".into(),
    };
    assert_eq!(
        net.frozen_params(),
        ["scale", "inner.l.weight", "inner.l.bias"]
    );
    let g: Generic<3, f32> = Generic {
        body: Linear::zeros(),
        drop: Dropout::new(0.0, 0),
        out: Linear::zeros(),
    };
    assert_eq!(g.frozen_params(), ["body.weight", "body.bias"]);
}
