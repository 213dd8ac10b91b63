//! Property tests of DESIGN 3.3's invariants, and of validation on arbitrary input.

use std::borrow::Cow;

use proptest::prelude::*;
use sync_core::{diff, diff_sequential, parse, validate, Contract, Field};

/// A small set of contracts with unique keys drawn from a small alphabet, so that two sets
/// share many keys; values drawn from few choices, with spaces and case, so that canonical
/// equality is exercised.
fn contracts() -> impl Strategy<Value = Vec<Contract<'static>>> {
    let value = prop_oneof![
        Just(None),
        Just(Some("a")),
        Just(Some(" a ")),
        Just(Some("b")),
        Just(Some("")),
        Just(Some("X@Y.fr")),
        Just(Some("x@y.fr")),
    ];
    let fields = proptest::collection::vec(value, 6);
    proptest::collection::btree_map(0u8..24, fields, 0..16).prop_map(|map| {
        map.into_iter()
            .map(|(key, values)| {
                let chosen = [
                    Field::NomEntreprise,
                    Field::EmailApprenant,
                    Field::DateFin,
                    Field::MissionTitle,
                    Field::NomSite,
                    Field::Rncp,
                ];
                let mut pairs: Vec<(Field, Cow<'static, str>)> =
                    vec![(Field::CodeContrat, Cow::Owned(format!("K{key}")))];
                for (field, value) in chosen.into_iter().zip(values) {
                    if let Some(v) = value {
                        pairs.push((field, Cow::Borrowed(v)));
                    }
                }
                Contract::from_pairs(pairs)
            })
            .collect()
    })
}

/// Shuffles by a seed, so that the two sets are not in the same order.
fn shuffled(mut set: Vec<Contract<'static>>, seed: u64) -> Vec<Contract<'static>> {
    let mut s = seed;
    for i in (1..set.len()).rev() {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        set.swap(i, (s >> 33) as usize % (i + 1));
    }
    set
}

/// Arbitrary JSON, biased toward arrays of objects with the document's field names.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[ a-zA-Z0-9@./é-]{0,10}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 40, 8, |inner| {
        let key = prop_oneof![
            proptest::sample::select(Field::ALL.to_vec()).prop_map(|f| f.name().to_owned()),
            Just("ccodeContrat".to_owned()),
            Just("contrats".to_owned()),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(key, inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn a_set_diffed_with_itself_is_all_same(a in contracts()) {
        let d = diff(&a, &a);
        prop_assert!(d.is_unchanged());
        prop_assert_eq!(d.same, (0..a.len()).collect::<Vec<_>>());
    }

    #[test]
    fn buckets_partition_and_apply_gives_the_current_set(a in contracts(), b in contracts(), seed in any::<u64>()) {
        let b = shuffled(b, seed);
        // Partition, order, apply, parallel == sequential: the library's own checker.
        sync_core::check::diff_invariants(&a, &b);
        let d = diff(&a, &b);
        let applied = d.apply();
        prop_assert_eq!(applied.len(), b.len());
        for contract in &b {
            let got = applied.iter().find(|c| c.key() == contract.key());
            prop_assert!(got.is_some_and(|c| c.canonical_eq(contract)));
        }
    }

    #[test]
    fn the_parallel_diff_is_the_sequential_one_on_any_number_of_threads(a in contracts(), b in contracts(), threads in 1usize..5) {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let parallel = pool.install(|| diff(&a, &b));
        let sequential = diff_sequential(&a, &b);
        prop_assert_eq!(parallel.same, sequential.same);
        prop_assert_eq!(parallel.added, sequential.added);
        prop_assert_eq!(parallel.updated, sequential.updated);
        prop_assert_eq!(parallel.removed, sequential.removed);
    }

    #[test]
    fn validation_never_panics_on_arbitrary_json(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        sync_core::check::payload(&bytes);
        if let Ok(payload) = parse(&bytes) {
            let report = validate(&payload);
            prop_assert!(report.problems.iter().all(|p| p.index.is_none_or(|i| i < payload.contracts.len())));
        }
    }

    #[test]
    fn validation_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        sync_core::check::payload(&bytes);
    }
}
