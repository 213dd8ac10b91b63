//! Arbitrary bodies of `POST /api/sync/v1/calendar-group-ics`, and arbitrary iCalendar files.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sync_http::check::calendar_body(data));
