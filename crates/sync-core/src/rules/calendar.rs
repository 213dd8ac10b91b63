//! The events of a group calendar, as kept and answered (`calendar-group-ics`).

use serde::{Deserialize, Serialize};

/// One event of a group calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEvent {
    /// The event's `UID`, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// `SUMMARY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Start, ISO 8601 (`2025-09-01T08:00:00Z`, or a date for all-day events).
    pub start: String,
    /// End, same format; the start when the event has none.
    pub end: String,
    /// `LOCATION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `DESCRIPTION`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
