//! Diff two arbitrary payloads (split at the first 0xff byte) and check the diff's invariants.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sync_core::fuzzing::diff_pair(data));
