//! Invariant checkers over arbitrary request bodies, for the fuzz targets and their replay
//! tests: each runs what the server runs on a body before touching the store, and panics
//! only when an invariant breaks.

use sync_core::rules::check_absences;

use crate::absences::AbsencesRequest;
use sync_engine::parse_events;

use crate::calendar::{calendar_url, CalendarRequest};

/// A body of `POST /api/sync/v1/absences-for-student`: decoded, then its items checked by
/// the core. Every accepted absence has real dates, its end not before its start.
pub fn absences_body(body: &[u8]) {
    let Ok(request) = serde_json::from_slice::<AbsencesRequest>(body) else {
        return;
    };
    match check_absences(&request.data) {
        Ok(absences) => {
            assert_eq!(
                absences.len(),
                request.data.len(),
                "every item is kept or reported"
            );
            for absence in absences {
                let start = sync_core::parse_dd_mm_yyyy_hh_mm(&absence.start)
                    .expect("accepted start is a date");
                let end = sync_core::parse_dd_mm_yyyy_hh_mm(&absence.end)
                    .expect("accepted end is a date");
                assert!(start <= end, "accepted absence ends before it starts");
            }
        }
        Err(problems) => assert!(!problems.is_empty(), "a refusal names its problems"),
    }
}

/// A body of `POST /api/sync/v1/calendar-group-ics` (its URL checked), and the same bytes
/// read as an iCalendar file: the URL accepted is http or https, and parsing never panics.
pub fn calendar_body(body: &[u8]) {
    if let Ok(request) = serde_json::from_slice::<CalendarRequest>(body) {
        if let Ok(url) = calendar_url(&request.calendar_url) {
            assert!(matches!(url.scheme(), "http" | "https"), "fetched scheme");
        }
    }
    if let Ok(text) = std::str::from_utf8(body) {
        if let Ok(events) = parse_events(text) {
            assert!(
                events.iter().all(|e| !e.start.is_empty()),
                "events have a start"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every input a fuzzer once found failing (`fuzz/regressions/<target>/`) and every seed of
    /// the corpus (`fuzz/corpus/<target>/seed-*`), replayed through the checker of its target:
    /// the five targets of `fuzz/`, sync-core's and sync-cycle's checkers included.
    #[test]
    fn replay_fuzz_inputs() {
        let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
        for (target, check) in [
            ("payload", sync_core::fuzzing::payload as fn(&[u8])),
            ("diff", sync_core::fuzzing::diff_pair),
            ("cycle", sync_cycle::fuzzing::cycle_request),
            ("absences", super::absences_body),
            ("calendar", super::calendar_body),
        ] {
            let mut seeds = 0;
            let dirs = [
                (fuzz.join("regressions").join(target), false),
                (fuzz.join("corpus").join(target), true),
            ];
            for (dir, seeds_only) in dirs {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries {
                    let path = entry.expect("readable fuzz directory").path();
                    let name = path.file_name().unwrap_or_default().to_string_lossy();
                    if seeds_only && !name.starts_with("seed-") {
                        continue;
                    }
                    check(&std::fs::read(&path).expect("readable fuzz input"));
                    seeds += usize::from(seeds_only);
                }
            }
            assert!(
                seeds > 0,
                "fuzz/corpus/{target} holds seeds in the repository"
            );
        }
    }
}
