//! The integration tests, one module per subject, built as one test binary: each binary would
//! compile and link the crate's generic code again. Run one subject with a filter, e.g.
//! `cargo test --test it properties::` (the `::` keeps the filter to that module).
//!
//! `tests/allocations.rs` (a counting global allocator) and `tests/threads.rs` (which sets the
//! process-wide thread count) are binaries of their own, and so is `tests/ui.rs` (trybuild).

mod reference;

mod checkpoint;
mod contraction_examples;
mod conv_runtime;
mod edge_values;
mod errors;
mod frozen;
mod identities;
mod kernel_accuracy;
mod kl_div_edges;
mod loading;
mod module_derive;
mod module_lists;
mod optim_reference;
mod panic_locations;
mod properties;
mod pytorch_interop;
mod reference_activations;
mod reference_attention;
mod reference_broadcast;
mod reference_conv;
mod reference_conv_layers;
mod reference_joining;
mod reference_layers;
mod reference_losses;
mod reference_masking;
mod runtime_dims;
mod runtime_matmul;
mod sequential;
mod tracking;
mod train;
