//! Arbitrary requests to the cycle routes (document 004) on a small portal.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sync_cycle::fuzzing::cycle_request(data));
