// The key padding mask of multi-head attention is `[B, S]`: the batch and the keys' length. A mask
// of the queries' length instead does not compile.
use shaped::nn::{AttentionOptions, MultiheadAttention};
use shaped::{Const, Mask, Rank3, Tensor};

fn main() {
    let mha: MultiheadAttention<4, 2, 2> = MultiheadAttention::zeros();
    let q: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    let kv: Tensor<Rank3<2, 5, 4>> = Tensor::zeros();
    let mask = Mask::from_vec_with((Const::<2>, Const::<3>), vec![false; 6]).unwrap();
    let options = AttentionOptions { key_padding_mask: Some(&mask), ..AttentionOptions::default() };
    let _ = mha.attend(&q, &kv, &kv, &options);
}
