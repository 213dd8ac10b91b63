//! Dates as the document writes them: ISO 8601, with or without an offset.

use chrono::{DateTime, NaiveDateTime};

use crate::error::CycleError;

/// Parses an ISO 8601 date and time as the document writes them: `2018-02-08T15:02:45.73`
/// (no offset: taken as UTC), `2020-01-01T00:00:00Z` or with an offset (`+02:00`).
pub fn parse_date(value: &str) -> Result<NaiveDateTime, CycleError> {
    let text = value.trim();
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Ok(date.naive_utc());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(date) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(date);
        }
    }
    Err(CycleError::InvalidDate(format!(
        "\"{value}\" is not an ISO 8601 date and time; expected e.g. 2020-01-01T00:00:00Z or 2018-02-08T15:02:45.73"
    )))
}

/// Checks a range: both dates ISO 8601, the end not before the start.
pub(crate) fn check_range(start: &str, end: Option<&str>) -> Result<(), CycleError> {
    let start_at = parse_date(start)?;
    if let Some(end) = end {
        if parse_date(end)? < start_at {
            return Err(CycleError::InvalidDate(format!(
                "the end {end} is before the start {start}"
            )));
        }
    }
    Ok(())
}
