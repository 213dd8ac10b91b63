//! The engine's integration tests: the host example, and each use case over a real store.

mod host;
mod processes;
mod runs;
mod syncs;
