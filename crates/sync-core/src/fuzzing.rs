//! Invariant checkers over arbitrary input: what the fuzz targets call, and what `cargo test`
//! replays on every input the fuzzers once found failing.
//!
//! Each checker panics when an invariant breaks (that is how a fuzzer sees it), and returns
//! normally for any input, valid or not, that the library handles as documented. Built with
//! the `fuzzing` feature only: not part of the documented API.

use foldhash::HashSet;

use crate::baseline::Baseline;
use crate::contract::Contract;
use crate::diff::{diff, diff_sequential, Diff};
use crate::parse::{parse, parse_general, scan, Payload};
use crate::validate::validate;

/// Parses and validates arbitrary bytes. Checks that nothing panics, that the fast scanner
/// and the general parser agree whenever the scanner accepts the input, that every problem
/// points into the payload, that each contract is written back out as serde_json writes it, and
/// that the payload diffed with itself is all `same`.
pub fn payload(input: &[u8]) {
    if let Ok(fast) = scan(input) {
        let general = parse_general(input).expect("the scanner accepted input the parser refuses");
        assert_eq!(
            fast.contracts, general.contracts,
            "scanner and parser disagree"
        );
        assert_eq!(
            fast.problems, general.problems,
            "scanner and parser disagree"
        );
    }
    let Ok(payload) = parse(input) else {
        return;
    };
    check_report(&payload);
    for contract in &payload.contracts {
        let mut written = Vec::new();
        contract.write_json(&mut written);
        let reference = serde_json::to_vec(contract).expect("a contract serializes");
        assert_eq!(written, reference, "write_json and serde_json disagree");
    }
    let same = diff(&payload.contracts, &payload.contracts);
    assert!(
        same.added.is_empty(),
        "a set diffed with itself adds nothing"
    );
    if distinct_keys(&payload.contracts) {
        assert!(
            same.is_unchanged(),
            "a set diffed with itself must be all same"
        );
    }
}

/// Splits arbitrary bytes in two payloads (at the first `0xff` byte, which UTF-8 never has),
/// and checks the diff's invariants when both parse (see [`diff_invariants`]), and that
/// comparing the second with the first as a [`Baseline`] reports what validating it alone
/// and diffing do.
pub fn diff_pair(input: &[u8]) {
    let split = input.iter().position(|&b| b == 0xff).unwrap_or(input.len());
    let (previous, current) = (&input[..split], input.get(split + 1..).unwrap_or_default());
    let (Ok(previous), Ok(current)) = (parse(previous), parse(current)) else {
        return;
    };
    check_report(&previous);
    check_report(&current);
    diff_invariants(&previous.contracts, &current.contracts);
    let base = Baseline::new(&previous);
    assert_eq!(base.report(), &validate(&previous));
    let comparison = base.compare(&current);
    assert_eq!(
        comparison.report,
        validate(&current),
        "comparing with the set before reports what validating alone does"
    );
    let alone = diff(&previous, &current);
    assert_eq!(comparison.diff.same, alone.same);
    assert_eq!(comparison.diff.updated, alone.updated);
}

/// The invariants of DESIGN 3.3 on two sets with unique keys (sets with duplicate keys only
/// get the checks that do not depend on uniqueness):
/// - the parallel diff equals the sequential one;
/// - `same`, `added` and `updated` partition the current set, in its order; `same`,
///   `updated` and `removed` partition the previous set;
/// - applying the diff to the previous set gives the current set, canonically, key by key.
pub fn diff_invariants(previous: &[Contract<'_>], current: &[Contract<'_>]) {
    let parallel = diff(previous, current);
    let sequential = diff_sequential(previous, current);
    assert_eq!(parallel.same, sequential.same);
    assert_eq!(parallel.added, sequential.added);
    assert_eq!(parallel.updated, sequential.updated);
    assert_eq!(parallel.removed, sequential.removed);
    if !distinct_keys(previous) || !distinct_keys(current) {
        return;
    }
    check_partition(&parallel);
    let applied = parallel.apply();
    assert_eq!(
        applied.len(),
        current.len(),
        "apply gives as many contracts as current"
    );
    let mut by_key: Vec<&Contract<'_>> = applied.iter().collect();
    by_key.sort_by(|a, b| a.key().cmp(b.key()));
    let mut expected: Vec<&Contract<'_>> = current.iter().collect();
    expected.sort_by(|a, b| a.key().cmp(b.key()));
    for (got, want) in by_key.iter().zip(&expected) {
        assert_eq!(got.key(), want.key());
        assert!(
            got.canonical_eq(want),
            "apply differs from current for {}",
            want.key()
        );
    }
}

fn check_partition(d: &Diff<'_, '_>) {
    let mut current: Vec<usize> = d.same.iter().chain(&d.added).copied().collect();
    current.extend(d.updated.iter().map(|u| u.current));
    current.sort_unstable();
    assert_eq!(
        current,
        (0..d.current.len()).collect::<Vec<_>>(),
        "current partition"
    );
    let mut previous: Vec<usize> = d.removed.clone();
    previous.extend(d.updated.iter().map(|u| u.previous));
    let matched: HashSet<&str> = d.same.iter().map(|&i| d.current[i].key()).collect();
    previous.extend(
        d.previous
            .iter()
            .enumerate()
            .filter(|(_, c)| matched.contains(c.key()))
            .map(|(i, _)| i),
    );
    previous.sort_unstable();
    assert_eq!(
        previous,
        (0..d.previous.len()).collect::<Vec<_>>(),
        "previous partition"
    );
    for order in [&d.same, &d.added, &d.removed] {
        assert!(order.windows(2).all(|w| w[0] < w[1]), "diff order");
    }
    assert!(d.updated.windows(2).all(|w| w[0].current < w[1].current));
    for u in &d.updated {
        assert_eq!(d.previous[u.previous].key(), d.current[u.current].key());
        assert!(!u.fields.is_empty());
        assert!(!d.previous[u.previous].canonical_eq(&d.current[u.current]));
    }
    for &i in &d.same {
        let key = d.current[i].key();
        let old = d
            .previous
            .iter()
            .find(|c| c.key() == key)
            .expect("same has a previous");
        assert!(old.canonical_eq(&d.current[i]));
    }
}

fn check_report(payload: &Payload<'_>) {
    let report = validate(payload);
    if payload.problems.is_empty() {
        // The same values held end to end rather than in their JSON text: the checks that
        // skip a run of values repeated from the contract before must find the same.
        let rebuilt = payload
            .contracts
            .iter()
            .map(|c| Contract::from_pairs(c.fields()))
            .collect();
        assert_eq!(
            validate(&Payload::from_contracts(rebuilt)),
            report,
            "the report depends on how the values are held"
        );
    }
    let n = payload.contracts.len();
    for problem in &report.problems {
        if let Some(index) = problem.index {
            assert!(index < n, "problem index {index} out of {n}");
        }
        assert!(!problem.message.is_empty());
    }
    assert!(
        report.problems.windows(2).all(|w| w[0].index <= w[1].index),
        "problems in payload order"
    );
}

fn distinct_keys(contracts: &[Contract<'_>]) -> bool {
    let mut seen = HashSet::default();
    contracts.iter().all(|c| seen.insert(c.key()))
}

#[cfg(test)]
mod tests {
    // The fuzz inputs of these checkers are replayed by sync-http's `replay_fuzz_inputs`, which
    // sees every target's checker (sync-core reads no files).

    #[test]
    fn checkers_accept_ordinary_and_broken_input() {
        let a = br#"[{"codeContrat": "C1", "nomSite": "Lyon"}, {"codeContrat": "C2"}]"#;
        let b =
            br#"{"contrats": [{"codeContrat": "C2", "nomSite": " x "}, {"codeContrat": "C3"}]}"#;
        for input in [&a[..], &b[..], b"", b"[", b"[1]", b"{\"contrats\": 3}"] {
            super::payload(input);
        }
        let mut pair = a.to_vec();
        pair.push(0xff);
        pair.extend_from_slice(b);
        super::diff_pair(&pair);
    }
}
