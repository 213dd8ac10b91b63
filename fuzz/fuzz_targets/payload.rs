//! Parse and validate arbitrary bytes as a contract payload.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sync_core::fuzzing::payload(data));
