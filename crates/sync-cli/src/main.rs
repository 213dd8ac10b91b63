//! sync-cli
fn main() {}
