//! Rebuilds the crate when a migration file changes (they are embedded at compile time).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
