// Multi-head attention splits its embedding into heads: EMBED must be HEADS x HEAD_DIM (a const
// assertion: reported by `cargo build`).
use shaped::nn::MultiheadAttention;

fn main() {
    let _: MultiheadAttention<10, 4, 2> = MultiheadAttention::zeros();
}
