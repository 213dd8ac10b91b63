//! Group calendars: the events of an iCalendar text, parsed with `icalendar`, kept per group.
//! Fetching the text is the adapter's concern (the server fetches a URL safely).

use icalendar::{CalendarComponent, CalendarDateTime, Component, DatePerhapsTime, EventLike};
use sync_core::rules::CalendarEvent;
use sync_store::TenantId;

use crate::error::EngineError;
use crate::Engine;

/// What a registered calendar holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSummary {
    /// Number of events kept.
    pub events: usize,
    /// The earliest start, if any event.
    pub from: Option<String>,
    /// The latest end, if any event.
    pub to: Option<String>,
}

impl Engine {
    /// Checks that an active contract has this group, before its calendar is fetched.
    pub fn check_calendar_group(&self, tenant: TenantId, group: &str) -> Result<(), EngineError> {
        let group = group.trim();
        if group.is_empty() || !self.store.group_is_active(tenant, group)? {
            return Err(EngineError::UnknownGroup(group.to_owned()));
        }
        Ok(())
    }

    /// Parses a group's calendar and replaces its stored events, if an active contract still
    /// has the group (checked against the contracts version the write is based on).
    pub fn register_calendar(
        &self,
        tenant: TenantId,
        group: &str,
        ics: &str,
    ) -> Result<CalendarSummary, EngineError> {
        let events = parse_events(ics).map_err(EngineError::InvalidCalendar)?;
        let group = group.trim();
        let _turn = self.locks.lock(tenant);
        self.retry_stale(|| {
            let version = self.store.contracts_version(tenant)?;
            if group.is_empty() || !self.store.group_is_active(tenant, group)? {
                return Err(EngineError::UnknownGroup(group.to_owned()));
            }
            Ok(self
                .store
                .replace_events(tenant, group, &events, Some(version))?)
        })?;
        Ok(CalendarSummary {
            events: events.len(),
            from: events
                .iter()
                .map(|e| e.start.as_str())
                .min()
                .map(str::to_owned),
            to: events
                .iter()
                .map(|e| e.end.as_str())
                .max()
                .map(str::to_owned),
        })
    }
}

fn format_time(value: DatePerhapsTime) -> String {
    match value {
        DatePerhapsTime::Date(date) => date.format("%Y-%m-%d").to_string(),
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(dt)) => {
            dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        }
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(dt))
        | DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time: dt, .. }) => {
            dt.format("%Y-%m-%dT%H:%M:%S").to_string()
        }
    }
}

/// Parses the events of an iCalendar text. Events without a start are left out.
///
/// ```
/// let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n\
///     BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20250901T080000Z\r\nSUMMARY:Cours\r\nEND:VEVENT\r\n\
///     END:VCALENDAR\r\n";
/// let events = sync_engine::parse_events(text).unwrap();
/// assert_eq!(events[0].start, "2025-09-01T08:00:00Z");
/// assert!(sync_engine::parse_events("<html></html>").is_err());
/// ```
pub fn parse_events(text: &str) -> Result<Vec<CalendarEvent>, String> {
    let text = text.trim_start_matches('\u{feff}');
    if !text
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("BEGIN:VCALENDAR")
    {
        return Err(
            "the calendar URL did not return an iCalendar file (no BEGIN:VCALENDAR)".to_owned(),
        );
    }
    let calendar: icalendar::Calendar = text.parse().map_err(|e: String| {
        format!(
            "the iCalendar file could not be parsed: {}",
            e.lines().next().unwrap_or("")
        )
    })?;
    let mut events = Vec::new();
    for component in &calendar.components {
        let CalendarComponent::Event(event) = component else {
            continue;
        };
        let Some(start) = event.get_start().map(format_time) else {
            continue;
        };
        let end = event
            .get_end()
            .map(format_time)
            .unwrap_or_else(|| start.clone());
        events.push(CalendarEvent {
            uid: event.get_uid().map(str::to_owned),
            summary: event.get_summary().map(str::to_owned),
            start,
            end,
            location: event.get_location().map(str::to_owned),
            description: event.get_description().map(str::to_owned),
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::parse_events;

    #[test]
    fn events() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n\
            BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20250901T080000Z\r\nDTEND:20250901T120000Z\r\nSUMMARY:Cours\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20250902\r\nSUMMARY:Journ\r\n ée\r\nEND:VEVENT\r\n\
            END:VCALENDAR\r\n";
        let events = parse_events(text).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].start, "2025-09-01T08:00:00Z");
        assert_eq!(events[0].end, "2025-09-01T12:00:00Z");
        assert_eq!(events[1].start, "2025-09-02");
        assert_eq!(events[1].summary.as_deref(), Some("Journée"));
        assert!(parse_events("<html></html>").is_err());
    }
}
