//! Heap allocations of one training step in steady state, counted with dhat's allocator: the crate's
//! step next to the hand-written one (whose only allocations are matrixmultiply's packing buffers).
//! The bounds are the counts measured when they were set; a change that allocates more per step fails
//! here. Counted on one thread (see the test). Print the counts: `cargo test --release --test
//! allocations -- --nocapture`.

#[path = "../benches/common/mod.rs"]
mod common;

use common::cases::{mlp_case, tiny_case};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Allocations per call of `step`, after a few calls to reach the steady state.
fn per_step(mut step: impl FnMut() -> f32) -> u64 {
    for _ in 0..5 {
        std::hint::black_box(step());
    }
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..20 {
        std::hint::black_box(step());
    }
    (dhat::HeapStats::get().total_blocks - before) / 20
}

#[test]
fn steady_state_allocations_per_training_step() {
    let _profiler = dhat::Profiler::builder().testing().build();
    // One thread: a product split over two threads is one call into matrixmultiply per run of
    // pieces, each with its own packing buffer, so the count on two threads depends on how the two
    // threads shared the MLP's two large products (about ten more per step).
    #[cfg(feature = "threading")]
    shaped::set_threads(1);
    let mut mlp = mlp_case();
    let (mlp_shaped, mlp_hand) = (per_step(|| mlp.shaped()), per_step(|| mlp.hand_written()));
    let mut tiny = tiny_case();
    let (tiny_shaped, tiny_hand) = (per_step(|| tiny.shaped()), per_step(|| tiny.hand_written()));
    println!("heap allocations per training step (steady state):");
    println!("  mlp 784-128-10, batch 64: shaped {mlp_shaped}, hand-written {mlp_hand}");
    println!("  tiny 2-16-16-1, batch 32: shaped {tiny_shaped}, hand-written {tiny_hand}");
    // What remains per step: each op's result is a new Arc and its backward a boxed closure; the
    // tape's gradients are returned in Arcs; matrixmultiply allocates a packing buffer per product it
    // computes. The tiny model's eight products (at most 32 x 16 x 16) are below the size that goes to
    // matrixmultiply: they run on the crate's small-product loop, whose scratch comes from the buffer
    // pool, so they allocate nothing (27 allocations per step before, 19 since). The MLP's products
    // all go to matrixmultiply (18).
    assert!(mlp_shaped <= 18, "mlp: {mlp_shaped} allocations per step");
    assert!(
        tiny_shaped <= 19,
        "tiny: {tiny_shaped} allocations per step"
    );
}
