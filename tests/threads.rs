//! Thread safety: tensors, gradients, models, their gradient structs and the optimizers are `Send +
//! Sync` (checked when this file compiles), and training in several threads at once gives bit for bit
//! what training one model after the other gives.
//!
//! Each thread records on its own tape (a `Tape` is deliberately not `Send`); what crosses threads
//! is data: tensors, models, gradients. Buffers are recycled per thread, so a tensor made in one
//! thread and dropped in another must be fine too.

use std::thread;

use shaped::nn::{Bilinear, Labels, Linear, cross_entropy, mse};
use shaped::optim::{Adam, AdamW, Optimizer, Sgd};
use shaped::rand::SeedableRng;
use shaped::rand::rngs::StdRng;
use shaped::{Const, Grads, Module, NoTape, Rank0, Rank1, Rank2, Rank3, Tape, Tensor, Tracking};

/// A derived model of `Linear` layers.
#[derive(Module, Clone, Debug)]
struct Mlp<T: Tracking<f32> = NoTape> {
    l1: Linear<6, 16, f32, T>,
    l2: Linear<16, 3, f32, T>,
}

impl Mlp {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        Self {
            l1: Linear::new(&mut rng),
            l2: Linear::new(&mut rng),
        }
    }
}

impl<T: Tracking<f32>> Mlp<T> {
    fn forward(&self, x: Tensor<Rank2<8, 6>>) -> Tensor<Rank2<8, 3>, f32, T> {
        self.l2.forward(self.l1.forward(x).tanh())
    }
}

/// A model in f64 with a bilinear layer and a free tensor.
#[derive(Module, Clone, Debug)]
struct Pairwise<T: Tracking<f64> = NoTape> {
    bl: Bilinear<4, 4, 2, f64, T>,
    scale: Tensor<Rank1<2>, f64, T>,
}

const fn send_sync<X: Send + Sync>() {}

// Checked by the compiler: this file does not build if any of them stops being `Send + Sync`.
const _: () = {
    send_sync::<Tensor<Rank2<3, 4>>>();
    send_sync::<Tensor<Rank0, f64, NoTape>>();
    send_sync::<Grads<f32>>();
    send_sync::<Grads<f64>>();
    send_sync::<Linear<3, 4>>();
    send_sync::<Mlp>();
    send_sync::<MlpGrads>();
    send_sync::<Pairwise>();
    send_sync::<PairwiseGrads>();
    send_sync::<Sgd<Mlp>>();
    send_sync::<Adam<Mlp>>();
    send_sync::<AdamW<Pairwise>>();
    send_sync::<Labels<Const<8>, 3>>();
    send_sync::<shaped::data::Dataset<6, 3>>();
    send_sync::<shaped::Error>();
};

#[test]
fn tensors_models_gradients_and_optimizers_are_send_and_sync() {
    // The same list, as a test that shows up in the test output.
    send_sync::<Tensor<Rank2<3, 4>>>();
    send_sync::<Grads<f32>>();
    send_sync::<Mlp>();
    send_sync::<MlpGrads>();
    send_sync::<Adam<Mlp>>();
    send_sync::<AdamW<Pairwise>>();
    send_sync::<Sgd<Pairwise>>();
}

/// A fixed batch for the MLP: inputs and labels from a seed.
fn batch(seed: u64) -> (Tensor<Rank2<8, 6>>, Labels<Const<8>, 3>) {
    let x = Tensor::uniform(&mut StdRng::seed_from_u64(seed), -1.0, 1.0);
    let ids: Vec<usize> = (0..8).map(|i| (i * 7 + seed as usize) % 3).collect();
    (x, Labels::from_slice(&ids).unwrap())
}

/// Trains an MLP with Adam for `steps` steps; returns the model and the losses' bits.
fn train_mlp(seed: u64, steps: usize) -> (Mlp, Vec<u32>) {
    let mut model = Mlp::new(seed);
    let mut opt = Adam::new(&model, 0.01);
    let mut losses = Vec::with_capacity(steps);
    for step in 0..steps {
        let (x, y) = batch(seed * 1000 + (step % 5) as u64);
        let (loss, grads) = model.value_and_grad(|m| cross_entropy(&m.forward(x), &y));
        losses.push(loss.to_bits());
        opt.step(&mut model, &grads);
    }
    (model, losses)
}

/// Trains the f64 bilinear model with AdamW on a regression target.
fn train_pairwise(seed: u64, steps: usize) -> (Pairwise, Vec<u64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Pairwise {
        bl: Bilinear::new(&mut rng),
        scale: Tensor::ones(),
    };
    let mut opt = AdamW::new(&model, 0.05);
    let x1: Tensor<Rank2<5, 4>, f64> = Tensor::uniform(&mut rng, -1.0, 1.0);
    let x2: Tensor<Rank2<5, 4>, f64> = Tensor::uniform(&mut rng, -1.0, 1.0);
    let target: Tensor<Rank2<5, 2>, f64> = Tensor::uniform(&mut rng, -1.0, 1.0);
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let (loss, grads) = model.value_and_grad(|m| {
            let y = m.bl.forward(x1.clone(), x2.clone());
            let y = y * m.scale.broadcast_to::<Rank2<5, 2>>();
            mse(&y, &target)
        });
        losses.push(loss.to_bits());
        opt.step(&mut model, &grads);
    }
    (model, losses)
}

/// A layer whose products (512 x 256 x 128 = 2^24 multiply-adds) are large enough to be split over two
/// threads when the `threading` feature is on.
#[derive(Module, Clone, Debug)]
struct Wide<T: Tracking<f32> = NoTape> {
    l: Linear<256, 128, f32, T>,
}

fn train_wide(seed: u64, steps: usize) -> (Wide, Vec<u32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Wide {
        l: Linear::new(&mut rng),
    };
    let mut opt = Sgd::new(&model, 0.01).momentum(0.9);
    let x: Tensor<Rank2<512, 256>> = Tensor::uniform(&mut rng, -1.0, 1.0);
    let target: Tensor<Rank2<512, 128>> = Tensor::uniform(&mut rng, -1.0, 1.0);
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        let (loss, grads) = model.value_and_grad(|m| mse(&m.l.forward(x.clone()), &target));
        losses.push(loss.to_bits());
        opt.step(&mut model, &grads);
    }
    (model, losses)
}

fn bits32<M: Module<Elem = f32>>(m: &M) -> Vec<u32> {
    let mut out = Vec::new();
    m.visit(&mut String::new(), &mut |_, v, _| {
        out.extend(v.iter().map(|x| x.to_bits()));
    });
    out
}

fn bits64<M: Module<Elem = f64>>(m: &M) -> Vec<u64> {
    let mut out = Vec::new();
    m.visit(&mut String::new(), &mut |_, v, _| {
        out.extend(v.iter().map(|x| x.to_bits()));
    });
    out
}

#[test]
fn training_in_parallel_gives_bit_for_bit_the_sequential_results() {
    const STEPS: usize = 60;
    // One after the other.
    let (a, la) = train_mlp(1, STEPS);
    let (b, lb) = train_mlp(2, STEPS);
    let (p, lp) = train_pairwise(3, STEPS);
    let (w, lw) = train_wide(4, 4);
    assert!(
        f32::from_bits(la[STEPS - 1]) < f32::from_bits(la[0]),
        "the MLP learns"
    );
    assert!(
        f64::from_bits(lp[STEPS - 1]) < f64::from_bits(lp[0]),
        "the bilinear model learns"
    );

    // All at once, twice over, in separate threads; the models come back to this thread.
    for _ in 0..2 {
        let (pa, pb, pp, pw) = thread::scope(|s| {
            let ha = s.spawn(|| train_mlp(1, STEPS));
            let hb = s.spawn(|| train_mlp(2, STEPS));
            let hp = s.spawn(|| train_pairwise(3, STEPS));
            let hw = s.spawn(|| train_wide(4, 4));
            (
                ha.join().unwrap(),
                hb.join().unwrap(),
                hp.join().unwrap(),
                hw.join().unwrap(),
            )
        });
        assert_eq!(pa.1, la);
        assert_eq!(bits32(&pa.0), bits32(&a));
        assert_eq!(pb.1, lb);
        assert_eq!(bits32(&pb.0), bits32(&b));
        assert_eq!(pp.1, lp);
        assert_eq!(bits64(&pp.0), bits64(&p));
        assert_eq!(pw.1, lw);
        assert_eq!(bits32(&pw.0), bits32(&w));
    }
}

#[test]
fn gradients_computed_in_other_threads_sum_to_the_same_update() {
    // Data parallelism by hand: the gradients of two batches computed in two threads, sent back
    // and summed, equal the same two gradients computed here, bit for bit; and one model shared by
    // reference (`Sync`) serves both threads.
    let model = Mlp::new(7);
    let grads_of = |seed: u64| {
        let (x, y) = batch(seed);
        let (_, grads) = model.value_and_grad(|m| cross_entropy(&m.forward(x), &y));
        grads
    };
    let here = [grads_of(10), grads_of(11)];
    let there = thread::scope(|s| {
        let h = [s.spawn(|| grads_of(10)), s.spawn(|| grads_of(11))];
        h.map(|h| h.join().unwrap())
    });
    for (a, b) in here.iter().zip(&there) {
        assert_eq!(bits32(a), bits32(b));
    }
    let sum = |[a, b]: [MlpGrads; 2]| {
        let mut acc = a;
        acc.zip_mut(&b, &mut |p, g| {
            p.iter_mut().zip(g).for_each(|(p, g)| *p += g)
        });
        acc
    };
    let (s1, s2) = (sum(here), sum(there));
    assert_eq!(bits32(&s1), bits32(&s2));
    let (mut m1, mut m2) = (model.clone(), model.clone());
    Sgd::new(&m1, 0.1).step(&mut m1, &s1);
    Sgd::new(&m2, 0.1).step(&mut m2, &s2);
    assert_eq!(bits32(&m1), bits32(&m2));
}

#[test]
fn tensors_made_in_one_thread_are_used_and_dropped_in_another() {
    // Buffers return to the pool of the thread that drops them; values must not be disturbed by
    // another thread's reuse of its own pool.
    let made: Vec<Tensor<Rank3<4, 8, 8>, f64>> = thread::spawn(|| {
        (0..16)
            .map(|i| {
                Tensor::<Rank3<4, 8, 8>, f64>::from_fn(|[a, b, c]| {
                    (i * 256 + a * 64 + b * 8 + c) as f64
                })
            })
            .collect()
    })
    .join()
    .unwrap();
    let sums: Vec<f64> = thread::scope(|s| {
        let handles: Vec<_> = made
            .chunks(4)
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|t| {
                            // Churn this thread's pool while reading the tensor.
                            let tape = Tape::new();
                            let y = (tape.watch(t).exp() * 0.0 + t).sum();
                            let _ = y.backward();
                            t.sum().item()
                        })
                        .sum::<f64>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, chunk) in made.chunks(4).enumerate() {
        let want: f64 = chunk.iter().map(|t| t.to_vec().iter().sum::<f64>()).sum();
        assert_eq!(sums[i], want);
    }
    // Dropped in yet another thread.
    thread::spawn(move || drop(made)).join().unwrap();
}

/// Products large enough to be cut into pieces (`m k n >= 2^20`): one thread and two give the same
/// bits, run after run, forward and backward.
#[cfg(feature = "threading")]
#[test]
fn one_thread_and_two_give_the_same_bits() {
    let mut rng = StdRng::seed_from_u64(5);
    let x: Tensor<Rank2<64, 784>> = Tensor::uniform(&mut rng, 0.0, 1.0);
    let w: Tensor<Rank2<128, 784>> = Tensor::uniform(&mut rng, -0.1, 0.1);
    let run = |threads: usize| {
        shaped::set_threads(threads);
        let tape = Tape::new();
        let wt = tape.watch(&w);
        let y = x.linear(&wt, shaped::NoBias);
        let grads = y.tanh().sum().backward();
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        (bits(y.to_vec()), bits(grads.get(&wt).to_vec()))
    };
    let one = run(1);
    for _ in 0..3 {
        assert_eq!(run(2), one);
    }
    shaped::set_threads(2);
}

/// The bits of `linear(x, w, b)` (a product accumulated onto the bias, with `W` read transposed) and
/// of the gradients of `sum(tanh(y))` for `x` (`dy W`), `w` (`dy^T x`, `dy` read transposed) and
/// `b`, on `threads` threads. 70 rows, 300 inputs and 100 outputs: no axis a multiple of 16, so
/// pieces end inside a kernel tile.
#[cfg(feature = "threading")]
fn linear_bits<E: shaped::Element>(threads: usize) -> Vec<Vec<u64>> {
    let mut rng = StdRng::seed_from_u64(11);
    let x: Tensor<Rank2<70, 300>, E> = Tensor::uniform(&mut rng, -E::one(), E::one());
    let layer: Linear<300, 100, E> = Linear::new(&mut rng);
    shaped::set_threads(threads);
    let tape = Tape::new();
    let (xt, lt) = (tape.watch(&x), tape.watch(&layer));
    let y = lt.forward(xt.clone());
    let grads = y.tanh().sum().backward();
    let bits = |v: Vec<E>| v.iter().map(|x| x.to_f64().unwrap().to_bits()).collect();
    let (dw, db) = (grads.get(&lt.weight), grads.get(lt.bias.as_ref().unwrap()));
    vec![
        bits(y.to_vec()),
        bits(grads.get(&xt).to_vec()),
        bits(dw.to_vec()),
        bits(db.to_vec()),
    ]
}

#[cfg(feature = "threading")]
#[test]
fn one_thread_and_two_give_the_same_bits_f32_and_f64_at_odd_sizes() {
    let (one32, one64) = (linear_bits::<f32>(1), linear_bits::<f64>(1));
    for _ in 0..5 {
        assert_eq!(linear_bits::<f32>(2), one32);
        assert_eq!(linear_bits::<f64>(2), one64);
    }
    shaped::set_threads(2);
}

/// A layer whose weight (128 x 784 = 100 352 values) is updated in two parts, one per thread.
#[cfg(feature = "threading")]
#[derive(Module, Clone, Debug)]
struct Big<T: Tracking<f32> = NoTape> {
    l: Linear<784, 128, f32, T>,
}

/// The parameters' bits after three steps of the optimizer `make` gives, on `threads` threads.
#[cfg(feature = "threading")]
fn update_bits<O: Optimizer<Big>>(threads: usize, make: impl Fn(&Big) -> O) -> Vec<u32> {
    let mut rng = StdRng::seed_from_u64(17);
    let mut model = Big {
        l: Linear::new(&mut rng),
    };
    let mut opt = make(&model);
    let x: Tensor<Rank2<64, 784>> = Tensor::uniform(&mut rng, -1.0, 1.0);
    let target: Tensor<Rank2<64, 128>> = Tensor::uniform(&mut rng, -1.0, 1.0);
    shaped::set_threads(threads);
    for _ in 0..3 {
        let (_, grads) = model.value_and_grad(|m| mse(&m.l.forward(x.clone()), &target));
        opt.step(&mut model, &grads);
    }
    bits32(&model)
}

/// The update of a large weight, in two parts on two threads (with the optimizer's state cut the
/// same way), gives one thread's bits: plain SGD, SGD with momentum, Adam and AdamW.
#[cfg(feature = "threading")]
#[test]
fn an_update_in_two_parts_gives_one_thread_s_bits() {
    fn check<O: Optimizer<Big>>(make: impl Fn(&Big) -> O) {
        let one = update_bits(1, &make);
        for _ in 0..3 {
            assert_eq!(update_bits(2, &make), one);
        }
    }
    check(|m| Sgd::new(m, 0.05).weight_decay(0.01));
    check(|m| Sgd::new(m, 0.05).momentum(0.9).nesterov(true));
    check(|m| Adam::new(m, 1e-3).weight_decay(0.01));
    check(|m| AdamW::new(m, 1e-3));
    shaped::set_threads(2);
}
