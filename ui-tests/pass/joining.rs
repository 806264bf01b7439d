// Joining, slicing and indexing on fitting shapes compile, build and run: the output sizes written
// for concat and the static ranges of narrow and split pass their const assertions at build time, and
// an embedding-plus-features scorer written for any batch `B: Dim` runs on static and run-time ids.
use shaped::{Axis, Const, Dim, Indices, Rank1, Rank2, Rank3, Tape, Tensor, Tracking};

/// Scores of a batch: the embedding of each id joined with its two dense features, times a weight.
fn score<B: Dim, T: Tracking<f32>>(
    table: &Tensor<Rank2<5, 3>, f32, T>,
    w: &Tensor<Rank1<5>, f32, T>,
    ids: &Indices<B, Const<5>>,
    feats: &Tensor<(B, Const<2>)>,
) -> Tensor<(B, Const<1>), f32, T> {
    let x: Tensor<(B, Const<5>), f32, T> = table.embedding(ids).concat(Axis::<1>, feats);
    x.matmul(&w.reshape::<Rank2<5, 1>>())
}

fn main() {
    // concat along each axis, the output size written by the caller
    let a: Tensor<Rank2<2, 3>> = Tensor::ones();
    let b: Tensor<Rank2<2, 4>> = Tensor::zeros();
    let c: Tensor<Rank2<2, 7>> = a.concat(Axis::<1>, &b);
    assert_eq!(c.sum().item(), 6.0);
    let r: Tensor<Rank2<4, 3>> = a.concat(Axis::<0>, &a);
    assert_eq!(r.shape(), [4, 3]);
    // narrow and split with static ranges; an empty range is allowed
    let m: Tensor<Rank2<3, 4>> = Tensor::from_fn(|[i, j]| (4 * i + j) as f32);
    let n: Tensor<Rank2<3, 2>> = m.narrow::<1, 2, 2>();
    assert_eq!(n.to_array(), [[2.0, 3.0], [6.0, 7.0], [10.0, 11.0]]);
    let e: Tensor<Rank2<0, 4>> = m.narrow::<0, 3, 0>();
    assert_eq!(e.numel(), 0);
    let (top, rest): (Tensor<Rank2<1, 4>>, Tensor<Rank2<2, 4>>) = m.split::<0, 1, 2>();
    let back: Tensor<Rank2<3, 4>> = top.concat(Axis::<0>, &rest);
    assert_eq!(back, m);
    // stack along a new axis
    let s: Tensor<Rank3<3, 2, 3>> = Tensor::stack(Axis::<0>, [&a, &a, &a]);
    assert_eq!(s.shape(), [3, 2, 3]);
    // index_select with indices checked when built
    let cols = Indices::<Const<2>, Const<4>>::new([3, 0]).unwrap();
    assert_eq!(m.index_select(Axis::<1>, &cols).to_vec(), vec![3.0, 0.0, 7.0, 4.0, 11.0, 8.0]);

    // The scorer on a static batch of 2 and on a run-time batch of 3, with gradients.
    let table: Tensor<Rank2<5, 3>> = Tensor::from_fn(|[i, j]| (i + j) as f32 / 10.0);
    let w: Tensor<Rank1<5>> = Tensor::ones();
    let ids = Indices::<Const<2>, Const<5>>::new([4, 1]).unwrap();
    let feats: Tensor<(Const<2>, Const<2>)> = Tensor::zeros_with((Const, Const));
    assert_eq!(score(&table, &w, &ids, &feats).shape(), [2, 1]);
    let ids = Indices::<usize, Const<5>>::from_slice(&[0, 4, 4]).unwrap();
    let feats: Tensor<(usize, Const<2>)> = Tensor::ones_with((3, Const));
    let tape = Tape::new();
    let (tt, wt) = (tape.watch(&table), tape.watch(&w));
    let grads = score(&tt, &wt, &ids, &feats).sum().backward();
    let gt: Tensor<Rank2<5, 3>> = grads.get(&tt);
    // rows 0 and 4 were looked up (4 twice), each gradient row is w's first three entries
    assert_eq!(gt.to_array()[4], [2.0; 3]);
    assert_eq!(gt.to_array()[1], [0.0; 3]);
}
