//! Lists of identical blocks, PyTorch's `nn.ModuleList`: arrays `[M; N]` and vectors `Vec<M>` of
//! modules are modules (parameters `0.weight`, `1.weight`, ...), trainable, and run their blocks
//! in order. As a field of a derived model they are watched, get gradients of the same shape,
//! are stepped by the optimizers, saved and loaded, and reported when unused.

use shaped::nn::{BatchNorm1d, Dropout, Forward, Linear, ReLU};
use shaped::optim::{Adam, Optimizer, Sgd};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{ErrorKind, Module, NoTape, Rank1, Rank2, Tape, Tensor, Tracking, gradcheck};

/// Three `2 -> 2` layers in sequence.
#[derive(Module)]
struct Stack<T: Tracking<f64> = NoTape> {
    blocks: [Linear<2, 2, f64, T>; 3],
}

impl<T: Tracking<f64>> Stack<T> {
    fn forward(&self, x: Tensor<Rank1<2>, f64>) -> Tensor<Rank1<2>, f64, T> {
        self.blocks.forward(x)
    }
}

fn linear(w: [[f64; 2]; 2], b: [f64; 2]) -> Linear<2, 2, f64> {
    Linear::from_weights(Tensor::from(w), Some(Tensor::from(b)))
}

/// `W1 = [[1, 2], [0, 1]], b1 = [0, 1]`; `W2 = [[1, 0], [-1, 1]], b2 = [1, 0]`;
/// `W3 = [[2, 0], [0, 1]], b3 = [0, 0]`.
fn small() -> Stack {
    Stack {
        blocks: [
            linear([[1.0, 2.0], [0.0, 1.0]], [0.0, 1.0]),
            linear([[1.0, 0.0], [-1.0, 1.0]], [1.0, 0.0]),
            linear([[2.0, 0.0], [0.0, 1.0]], [0.0, 0.0]),
        ],
    }
}

fn random_stack(seed: u64) -> Stack {
    let mut rng = StdRng::seed_from_u64(seed);
    Stack {
        blocks: core::array::from_fn(|_| Linear::new(&mut rng)),
    }
}

fn bits(m: &impl Module<Elem = f64>) -> Vec<u64> {
    let mut out = Vec::new();
    m.visit(&mut String::new(), &mut |_, v, _| {
        out.extend(v.iter().map(|x| x.to_bits()));
    });
    out
}

fn values(m: &impl Module<Elem = f64>) -> Vec<f64> {
    let mut out = Vec::new();
    m.visit(&mut String::new(), &mut |_, v, _| out.extend_from_slice(v));
    out
}

fn names(m: &impl Module) -> Vec<String> {
    m.params().into_iter().map(|p| p.name).collect()
}

#[test]
fn an_array_runs_its_blocks_in_order() {
    let model = random_stack(1);
    let x = Tensor::from([0.5, -2.0]);
    let [a, b, c] = &model.blocks;
    let by_hand = c.forward(b.forward(a.forward(x.clone())));
    assert_eq!(model.forward(x.clone()).to_vec(), by_hand.to_vec());
    // The same for a vector of the same blocks, and for the array in a tuple.
    let list: Vec<Linear<2, 2, f64>> = model.blocks.to_vec();
    assert_eq!(list.forward(x.clone()).to_vec(), by_hand.to_vec());
    let tuple = (model.blocks.clone(), ReLU);
    assert_eq!(tuple.forward(x).to_vec(), by_hand.relu().to_vec());
}

#[test]
fn the_parameters_are_named_by_position() {
    let model = small();
    assert_eq!(
        names(&model),
        [
            "blocks.0.weight",
            "blocks.0.bias",
            "blocks.1.weight",
            "blocks.1.bias",
            "blocks.2.weight",
            "blocks.2.bias"
        ]
    );
    assert_eq!(names(&model.blocks.to_vec())[..2], ["0.weight", "0.bias"]);
    // In a tuple: the array is the tuple's element 1, its blocks below it.
    let mut rng = StdRng::seed_from_u64(0);
    let tuple: (Linear<2, 4>, [Linear<4, 4>; 2], Linear<4, 1>) = (
        Linear::new(&mut rng),
        [Linear::new(&mut rng), Linear::new(&mut rng)],
        Linear::new(&mut rng),
    );
    assert_eq!(
        names(&tuple),
        [
            "0.weight",
            "0.bias",
            "1.0.weight",
            "1.0.bias",
            "1.1.weight",
            "1.1.bias",
            "2.weight",
            "2.bias"
        ]
    );
}

/// `loss = sum(y)`, `y = W3 h2 + b3`, `h2 = W2 h1 + b2`, `h1 = W1 x + b1`. With `g3 = dL/dy = 1`:
/// `dL/dW3 = g3 h2^T`, `dL/db3 = g3`; `g2 = W3^T g3`, `dL/dW2 = g2 h1^T`, `dL/db2 = g2`;
/// `g1 = W2^T g2`, `dL/dW1 = g1 x^T`, `dL/db1 = g1`. At `x = [1, 1]`: `h1 = [3, 2]`,
/// `h2 = [4, -1]`, `y = [8, -1]`; `g2 = [2, 1]`, `g1 = [1, 1]`.
#[test]
fn the_gradients_are_the_analytic_ones() {
    let model = small();
    let x = Tensor::from([1.0, 1.0]);
    let (loss, g) = model.value_and_grad(|m| m.forward(x.clone()).sum());
    assert_eq!(loss, 7.0);
    let g: [shaped::nn::LinearGrads<2, 2, f64>; 3] = g.blocks;
    let expected = [
        ([[1.0, 1.0], [1.0, 1.0]], [1.0, 1.0]),   // g1 x^T, g1
        ([[6.0, 4.0], [3.0, 2.0]], [2.0, 1.0]),   // g2 h1^T, g2
        ([[4.0, -1.0], [4.0, -1.0]], [1.0, 1.0]), // g3 h2^T, g3
    ];
    for (i, (g, (w, b))) in g.iter().zip(expected).enumerate() {
        assert_eq!(g.weight.to_array(), w, "block {i}");
        assert_eq!(g.bias.as_ref().unwrap().to_vec(), b, "block {i}");
    }
}

#[test]
fn the_gradients_match_finite_differences() {
    // The tracked model built from the inputs on gradcheck's tape: the weights, and the biases as
    // the rows of one tensor. Loss: sum(tanh(y) * v), not linear in any parameter.
    let model = random_stack(7);
    let [w1, w2, w3] = model.blocks.each_ref().map(|l| l.weight.clone());
    let biases: Tensor<Rank2<3, 2>, f64> = Tensor::from(
        model
            .blocks
            .each_ref()
            .map(|l| l.bias.as_ref().unwrap().to_array()),
    );
    let x = Tensor::from([0.7, -1.3]);
    let v = Tensor::from([1.5, -0.5]);
    gradcheck(
        |(w1, w2, w3, b)| {
            let bias = |i: usize| -> Tensor<Rank1<2>, f64, Tape<f64>> {
                match i {
                    0 => b.narrow::<0, 0, 1>().reshape(),
                    1 => b.narrow::<0, 1, 1>().reshape(),
                    _ => b.narrow::<0, 2, 1>().reshape(),
                }
            };
            let tracked: Stack<Tape<f64>> = Stack {
                blocks: [
                    Linear {
                        weight: w1,
                        bias: Some(bias(0)),
                    },
                    Linear {
                        weight: w2,
                        bias: Some(bias(1)),
                    },
                    Linear {
                        weight: w3,
                        bias: Some(bias(2)),
                    },
                ],
            };
            (tracked.forward(x.clone()).tanh() * &v).sum()
        },
        (&w1, &w2, &w3, &biases),
    )
    .unwrap();
}

#[test]
fn one_sgd_step_moves_every_block_by_minus_lr_grad() {
    let mut model = random_stack(3);
    let before = model.blocks.clone();
    let x = Tensor::from([0.25, 2.0]);
    let (_, g) = model.value_and_grad(|m| m.forward(x.clone()).powi(2).sum());
    let lr = 0.125;
    Sgd::new(&model, lr).step(&mut model, &g);
    for (i, (p, (q, g))) in before
        .iter()
        .zip(model.blocks.iter().zip(&g.blocks))
        .enumerate()
    {
        let g = values(g);
        let want: Vec<f64> = values(p).iter().zip(&g).map(|(p, g)| p - lr * g).collect();
        assert_eq!(values(q), want, "block {i}");
        assert!(g.iter().all(|g| *g != 0.0), "block {i}");
    }
}

#[test]
fn save_then_load_round_trips_bit_for_bit() {
    let model = random_stack(11);
    let mut back = Stack {
        blocks: [Linear::zeros(), Linear::zeros(), Linear::zeros()],
    };
    back.load_safetensors(&model.to_safetensors()).unwrap();
    assert_eq!(bits(&back), bits(&model));
    // A vector of blocks, through a file.
    let list: Vec<Linear<2, 2, f64>> = model.blocks.to_vec();
    let path = std::env::temp_dir().join("shaped_it_module_lists.safetensors");
    list.save(&path).unwrap();
    let mut loaded: Vec<Linear<2, 2, f64>> = vec![Linear::zeros(); 3];
    loaded.load(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(bits(&loaded), bits(&list));
}

#[test]
fn a_vector_of_another_length_fails_to_load_naming_the_tensors() {
    let three: Vec<Linear<2, 2, f64>> = random_stack(5).blocks.to_vec();
    let bytes = three.to_safetensors();

    let mut two: Vec<Linear<2, 2, f64>> = vec![Linear::zeros(); 2];
    let err = two.load_safetensors(&bytes).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unexpected);
    assert_eq!(
        err.to_string(),
        "the file has 2 tensors that the model does not: `2.bias`, `2.weight`"
    );
    assert!(bits(&two).iter().all(|b| *b == 0), "left as it was");

    let mut four: Vec<Linear<2, 2, f64>> = vec![Linear::zeros(); 4];
    let err = four.load_safetensors(&bytes).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Missing);
    assert_eq!(
        err.to_string(),
        "cannot load the model: 2 problems: tensor `3.weight` is missing from the file; \
         tensor `3.bias` is missing from the file"
    );
    assert!(bits(&four).iter().all(|b| *b == 0), "left as it was");
}

#[test]
fn unused_params_names_an_unused_block() {
    let model = random_stack(2);
    let tape = Tape::new();
    let m = tape.watch(&model);
    // The first two blocks only.
    let y = m.blocks[1].forward(m.blocks[0].forward(Tensor::from([1.0, 2.0])));
    let grads = y.sum().backward();
    assert_eq!(
        model.unused_params(&grads),
        ["blocks.2.weight", "blocks.2.bias"]
    );
    let g = model.grads(&grads);
    assert_eq!(g.blocks[2].weight.to_vec(), [0.0; 4]);
}

#[test]
#[should_panic(expected = "a list of 3 modules zipped with gradients of 2")]
fn zipping_vectors_of_other_lengths_panics_with_both() {
    let mut three: Vec<Linear<2, 2, f64>> = vec![Linear::zeros(); 3];
    let two = vec![Linear::zeros().zeros_like(); 2];
    three.zip_mut(&two, &mut |_, _| {});
}

/// A derived block: `tanh(W x + b) * s`.
#[derive(Module, Clone)]
struct Block<T: Tracking<f64> = NoTape> {
    lin: Linear<2, 2, f64, T>,
    s: Tensor<Rank1<2>, f64, T>,
}

impl<T: Tracking<f64>> Forward<Tensor<Rank1<2>, f64, T>> for Block<T> {
    type Output = Tensor<Rank1<2>, f64, T>;
    fn forward(&self, x: Tensor<Rank1<2>, f64, T>) -> Self::Output {
        self.lin.forward(x).tanh() * &self.s
    }
}

#[derive(Module)]
struct Deep<T: Tracking<f64> = NoTape> {
    embed: Linear<2, 2, f64, T>,
    blocks: [Block<T>; 3],
    more: Vec<Block<T>>,
}

impl<T: Tracking<f64>> Deep<T> {
    fn forward(&self, x: Tensor<Rank1<2>, f64>) -> Tensor<Rank1<2>, f64, T> {
        self.more
            .forward(self.blocks.forward(self.embed.forward(x)))
    }
}

fn block(rng: &mut StdRng) -> Block {
    Block {
        lin: Linear::new(rng),
        s: Tensor::from([1.5, 0.75]),
    }
}

fn deep(seed: u64, more: usize) -> Deep {
    let mut rng = StdRng::seed_from_u64(seed);
    Deep {
        embed: Linear::new(&mut rng),
        blocks: core::array::from_fn(|_| block(&mut rng)),
        more: (0..more).map(|_| block(&mut rng)).collect(),
    }
}

#[test]
fn derived_blocks_in_an_array_and_a_vector_train() {
    let mut model = deep(4, 2);
    let mut n = names(&model);
    n.retain(|n| n.ends_with(".s"));
    assert_eq!(
        n,
        [
            "blocks.0.s",
            "blocks.1.s",
            "blocks.2.s",
            "more.0.s",
            "more.1.s"
        ]
    );
    let x = Tensor::from([0.5, 1.0]);
    let loss = |m: &Deep<Tape<f64>>| (m.forward(x.clone()) - 1.0).powi(2).sum();
    let (l0, g) = model.value_and_grad(loss);
    let _: &[BlockGrads; 3] = &g.blocks;
    let _: &Vec<BlockGrads> = &g.more;
    assert_eq!(g.more.len(), 2);
    // The value is the one of the model off the tape.
    assert_eq!(l0, (model.forward(x.clone()) - 1.0).powi(2).sum().item());

    // Adam's first step: `p - lr m / (sqrt(v) + eps)` with `m = g`, `v = g^2` (bias-corrected),
    // `-lr sign(g)` up to eps, for every block of the array and of the vector.
    let before = (values(&model.blocks), values(&model.more));
    let lr = 0.01;
    Adam::new(&model, lr).step(&mut model, &g);
    for (before, after, g) in [
        (&before.0, values(&model.blocks), values(&g.blocks)),
        (&before.1, values(&model.more), values(&g.more)),
    ] {
        assert_eq!((before.len(), after.len()), (g.len(), g.len()));
        for (i, ((b, a), g)) in before.iter().zip(&after).zip(&g).enumerate() {
            assert!(*g != 0.0, "element {i}");
            // off by lr eps / (|g| + eps) from `lr sign(g)`, and by rounding
            let tol = 2.0 * lr * 1e-8 / g.abs() + 1e-15;
            assert!(
                (a - (b - lr * g.signum())).abs() < tol,
                "element {i}: {b} -> {a}, g {g}"
            );
        }
    }

    let (l1, _) = model.value_and_grad(loss);
    assert!(l1 < l0, "{l1} < {l0}");

    // Save and load, into a model with other values.
    let mut back = deep(99, 2);
    back.load_safetensors(&model.to_safetensors()).unwrap();
    assert_eq!(bits(&back), bits(&model));
    // Another number of blocks in the vector: the names of the difference.
    let err = deep(99, 1)
        .load_safetensors(&model.to_safetensors())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unexpected);
    assert_eq!(
        err.to_string(),
        "the file has 3 tensors that the model does not: `more.1.lin.bias`, \
         `more.1.lin.weight`, `more.1.s`"
    );
}

#[test]
fn unused_params_names_an_unused_derived_block() {
    let model = deep(8, 1);
    let tape = Tape::new();
    let m = tape.watch(&model);
    // The array's first two blocks and the vector's block, not the array's last block.
    let h = m.blocks[1].forward(m.blocks[0].forward(m.embed.forward(Tensor::from([1.0, 1.0]))));
    let grads = (m.more.forward(h) * 3.0).sum().backward();
    assert_eq!(
        model.unused_params(&grads),
        ["blocks.2.lin.weight", "blocks.2.lin.bias", "blocks.2.s"]
    );
}

/// Frozen lists, buffers and the training flag reach every element.
#[derive(Module)]
struct Normed<T: Tracking<f64> = NoTape> {
    #[module(frozen)]
    fixed: [Linear<2, 2, f64>; 2],
    norms: Vec<BatchNorm1d<2, f64, T>>,
    drops: [Dropout<f64>; 2],
}

#[test]
fn frozen_lists_buffers_and_the_training_flag_reach_every_element() {
    let mut model = Normed {
        fixed: [Linear::zeros(), Linear::zeros()],
        norms: vec![BatchNorm1d::new(), BatchNorm1d::new()],
        drops: [Dropout::new(0.5, 0), Dropout::new(0.5, 1)],
    };
    assert_eq!(
        model.frozen_params(),
        [
            "fixed.0.weight",
            "fixed.0.bias",
            "fixed.1.weight",
            "fixed.1.bias"
        ]
    );
    let buffers: Vec<String> = model.buffers().into_iter().map(|b| b.name).collect();
    assert_eq!(
        buffers,
        [
            "norms.0.running_mean",
            "norms.0.running_var",
            "norms.0.num_batches_tracked",
            "norms.1.running_mean",
            "norms.1.running_var",
            "norms.1.num_batches_tracked"
        ]
    );
    model.eval();
    assert!(model.norms.iter().all(|n| !n.is_training()));
    assert!(model.drops.iter().all(|d| !d.is_training()));
    model.train();
    assert!(model.norms.iter().all(BatchNorm1d::is_training));
    assert!(model.drops.iter().all(Dropout::is_training));
    // The frozen list is not on the tape: zeros, and not unused.
    let tape = Tape::new();
    let m = tape.watch(&model);
    let x: Tensor<Rank2<3, 2>, f64> = Tensor::from([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]]);
    let grads = m.norms.forward(m.fixed.forward(x)).powi(2).sum().backward();
    assert_eq!(model.unused_params(&grads), Vec::<String>::new());
    let g = model.grads(&grads);
    assert_eq!(g.fixed[1].weight.to_vec(), [0.0; 4]);
}

#[test]
fn a_list_of_no_blocks_returns_its_input() {
    let none: [Linear<2, 2, f64>; 0] = [];
    let x = Tensor::from([1.0, -1.0]);
    assert_eq!(none.forward(x.clone()), x);
    assert_eq!(Vec::<Linear<2, 2, f64>>::new().forward(x.clone()), x);
    assert_eq!(none.param_count(), 0);
}

#[test]
#[should_panic(expected = "a list of no blocks returns its input, but its input")]
fn a_list_of_no_blocks_on_a_tape_cannot_take_an_input_off_it() {
    let none: Vec<Linear<2, 2, f64, Tape<f64>>> = Vec::new();
    let _ = none.forward(Tensor::<Rank1<2>, f64>::from([1.0, -1.0]));
}
