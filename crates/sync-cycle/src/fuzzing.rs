//! The invariant checker of the `cycle` fuzz target, which `cargo test` also replays on every
//! input the fuzzer once found failing (sync-http's `replay_fuzz_inputs`). Behind the
//! `fuzzing` feature: not part of the documented API.

use serde_json::{json, Value};

use crate::dates::parse_date;
use crate::error::CycleError;
use crate::model::CycleData;

/// An arbitrary request to a cycle route (the first byte picks the route, the rest is the
/// body) on a small portal: checks that nothing panics, that a refused request changes
/// nothing, that errors carry a code of the document (1000 to 1010), and that after any
/// request no member has a range ending before it starts, nor (after a status change) more
/// than one open range; and that the route run on the slice its request's scope names answers
/// and changes what it does on the whole data.
pub fn cycle_request(input: &[u8]) {
    let Some((&route, body)) = input.split_first() else {
        return;
    };
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let mut data = CycleData::default();
    let portal = json!({
        "cycles": [{"cycleId": "c1"}],
        "periods": [{"cyclePeriodId": "p1", "cycleId": "c1", "startDate": "2020-01-01T00:00:00Z",
                     "requirements": [{"type": 1, "targetValue": 10}]}],
        "members": [{"userId": "u1", "customFields": {"f": "1"}}, {"userId": "u2", "customFields": {"f": "1"}}],
        "credits": [{"memberId": "u1", "cyclePeriodId": "p1", "kind": "completed", "credits": 2}]
    });
    data.import(&portal).expect("the fixture imports");
    let _ = data.change_current_member_status(
        &json!({"userId": "u1", "status": {"status": "Membre", "startDate": "2020-01-01T00:00:00"}})
            .into(),
    );
    crate::scope::check_slice_equivalence(&data, route, &request);
    let before = data.clone();
    let result = match route % 8 {
        0 => data.get_period_list(&request.into()),
        1 => data.get_user_progress(&request.into()),
        2 => data.get_member_statuses(&request.into()),
        3 => data.update_member_statuses(&request.into()),
        4 => data.update_member_status(&request.into()),
        5 => data.change_current_member_status(&request.into()),
        6 => data
            .import(&request)
            .map(|_| Value::Null)
            .map_err(|problems| {
                assert!(!problems.is_empty(), "a refused import names its problems");
                CycleError::InvalidId
            }),
        _ => Ok(data.get_list()),
    };
    if let Err(error) = &result {
        assert!((1000..=1010).contains(&error.code()));
        assert_eq!(data, before, "a refused request changes nothing");
    }
    for entries in data.statuses.values() {
        for entry in entries {
            if let (Ok(start), Some(Ok(end))) = (
                parse_date(&entry.start_date),
                entry.end_date.as_deref().map(parse_date),
            ) {
                assert!(start <= end, "a range ends before it starts");
            }
        }
        if route % 8 == 5 {
            assert!(entries.iter().filter(|e| e.end_date.is_none()).count() <= 1);
        }
    }
}
