//! Tensors and their shapes: building, reading, reshaping, broadcasting, reducing, printing.
//!
//! Run: `cargo run --example 01_tensors`

use shaped::{Rank1, Rank2, Rank3, Tensor};

fn main() -> Result<(), shaped::Error> {
    // The shape is part of the type. From nested arrays it is read off the literal.
    let a = Tensor::from([[1.0_f32, 2.0, 3.0], [4.0, 5.0, 6.0]]); // Tensor<Rank2<2, 3>, f32>
    println!("a =\n{a}\nshape {:?}, {} elements", a.shape(), a.numel());

    // Constructors name their shape in the type.
    let ones: Tensor<Rank2<2, 3>> = Tensor::ones();
    let grid = Tensor::<Rank2<2, 3>>::from_fn(|[i, j]| (10 * i + j) as f32);
    println!("a + ones =\n{}", &a + &ones);
    println!("grid =\n{grid}");

    // Data read at run time goes through a Result: the length must fit the shape.
    let v: Tensor<Rank1<4>> = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0])?;
    let err = Tensor::<Rank1<4>>::from_vec(vec![1.0, 2.0]).unwrap_err();
    println!("from_vec with 2 elements: {err}");

    // Reshape keeps the elements (checked when the program is built), transpose swaps the last two axes.
    let m = v.reshape::<Rank2<2, 2>>();
    println!("reshaped =\n{m}\ntransposed =\n{}", m.transpose());

    // Broadcasting follows numpy: a row is repeated down the rows (`[2, 3] + [3]`).
    let row = Tensor::from([10.0_f32, 20.0, 30.0]);
    let shifted = &a + &row;
    println!("a + row =\n{shifted}");

    // Reductions name the axis in the type; the result has the reduced shape.
    let col_sums: Tensor<Rank1<3>> = a.sum_axis::<0>();
    let row_max: Tensor<Rank1<2>> = a.max_axis::<1>();
    println!(
        "column sums {col_sums}, row maxima {row_max}, mean {}",
        a.mean().item()
    );

    // Softmax along the last axis: every row sums to 1.
    let p = a.softmax::<1>();
    println!("softmax rows =\n{p:.3}\nrow sums {:.3}", p.sum_axis::<1>());

    // Larger tensors print with the middle elided, like numpy.
    let big = Tensor::<Rank3<4, 30, 30>>::from_fn(|[i, j, k]| (i * 900 + j * 30 + k) as f32);
    println!("{big:?}");
    assert_eq!(big.sum_axis::<0>().shape(), [30, 30]);
    Ok(())
}
