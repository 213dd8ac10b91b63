//! Placeholder so the crate compiles.
