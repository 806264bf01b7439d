// A key padding mask `[B, S]`, static or known at run time, and the attention weights: builds and
// runs.
use shaped::nn::{AttentionOptions, MultiheadAttention};
use shaped::{Const, Mask, Rank3, Tensor};

fn main() {
    let mha: MultiheadAttention<4, 2, 2> = MultiheadAttention::zeros();
    let q: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    let kv: Tensor<Rank3<2, 5, 4>> = Tensor::zeros();
    let mask = Mask::from_vec_with((Const::<2>, Const::<5>), vec![false; 10]).unwrap();
    let options = AttentionOptions { key_padding_mask: Some(&mask), ..AttentionOptions::default() };
    let a = mha.attend(&q, &kv, &kv, &options);
    assert_eq!(a.weights.shape(), [2, 2, 3, 5]);
    assert_eq!(a.averaged_weights().shape(), [2, 3, 5]);

    let rows: Tensor<(usize, usize, Const<4>)> = Tensor::zeros_with((2, 5, Const));
    let mask = Mask::from_vec_with((2, 5), vec![false; 10]).unwrap();
    let options = AttentionOptions { key_padding_mask: Some(&mask), ..AttentionOptions::default() };
    assert_eq!(mha.attend(&rows, &rows, &rows, &options).output.shape(), [2, 5, 4]);
}
