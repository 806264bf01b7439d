//! Code shared by the training bench and the allocation test.

#![allow(dead_code)] // each user takes the parts it needs

pub mod cases;
pub mod reference;
