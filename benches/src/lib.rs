//! Benchmarks of campus-sync: criterion benches in `benches/`, the compare tool in
//! `compare.sh` with its helpers in `examples/`. Nothing to link: this crate has no API.
