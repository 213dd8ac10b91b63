//! The two date formats of document 000, one parser each, named after the format.

use chrono::{NaiveDate, NaiveDateTime};

/// Parses a real `DD/MM/YYYY` date (two-digit day and month, four-digit year).
pub fn parse_dd_mm_yyyy(value: &str) -> Option<NaiveDate> {
    let b = value.as_bytes();
    if b.len() != 10 || b[2] != b'/' || b[5] != b'/' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (day, month, year) = (num(0..2)?, num(3..5)?, num(6..10)?);
    if year == 0 {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// Parses a `DD/MM/YYYY-HH:mm` date and time.
pub fn parse_dd_mm_yyyy_hh_mm(value: &str) -> Option<NaiveDateTime> {
    let (date, time) = value.split_once('-')?;
    let date = parse_dd_mm_yyyy(date)?;
    let b = time.as_bytes();
    if b.len() != 5 || b[2] != b':' || !b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit) {
        return None;
    }
    let num = |s: &[u8]| u32::from(s[0] - b'0') * 10 + u32::from(s[1] - b'0');
    date.and_hms_opt(num(&b[..2]), num(&b[3..]), 0)
}
