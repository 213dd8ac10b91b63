//! Arbitrary bodies of `POST /api/sync/v1/absences-for-student`, checked as the server does.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sync_http::check::absences_body(data));
