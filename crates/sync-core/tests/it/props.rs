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

/// Any JSON value (small).
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "\\PC{0,8}".prop_map(serde_json::Value::from),
        "[ a-zA-Z0-9@./é-]{0,12}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("01/09/2025")),
        Just(serde_json::Value::from("a@b.fr")),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A payload shaped like an export (an array of objects with the document's field names,
/// `ccodeContrat` and unknown names), bare or wrapped, whose values are of any JSON type.
fn export_like() -> impl Strategy<Value = serde_json::Value> {
    let key = prop_oneof![
        4 => proptest::sample::select(Field::ALL.to_vec()).prop_map(|f| f.name().to_owned()),
        1 => Just("ccodeContrat".to_owned()),
        1 => "[a-zA-Z]{1,8}",
    ];
    let object = proptest::collection::btree_map(key, any_json(), 0..12)
        .prop_map(|m| serde_json::Value::Object(m.into_iter().collect()));
    let item = prop_oneof![8 => object, 1 => any_json()];
    (proptest::collection::vec(item, 0..6), 0u8..3, any_json()).prop_map(|(items, form, extra)| {
        let array = serde_json::Value::from(items);
        match form {
            0 => array,
            1 => serde_json::json!({ "contrats": array }),
            _ => serde_json::json!({ "contrats": array, "autre": extra }),
        }
    })
}

/// The keys of `set`, in order.
fn keys<'s>(set: &'s [Contract<'_>], indices: &[usize]) -> Vec<&'s str> {
    indices.iter().map(|&i| set[i].key()).collect()
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
    fn a_set_diffed_with_itself_is_all_same(a in contracts(), seed in any::<u64>()) {
        let d = diff(&a, &a);
        prop_assert!(d.is_unchanged());
        prop_assert_eq!(&d.same, &(0..a.len()).collect::<Vec<_>>());
        // And with a shuffled copy of itself, in the copy's order.
        let b = shuffled(a.clone(), seed);
        let d = diff(&a, &b);
        prop_assert!(d.is_unchanged());
        prop_assert_eq!(&d.same, &(0..b.len()).collect::<Vec<_>>());
    }

    #[test]
    fn the_buckets_partition_the_keys_in_order(a in contracts(), b in contracts(), seed in any::<u64>()) {
        let b = shuffled(b, seed);
        let d = diff(&a, &b);
        let updated_current: Vec<usize> = d.updated.iter().map(|u| u.current).collect();
        let updated_previous: Vec<usize> = d.updated.iter().map(|u| u.previous).collect();
        // same + updated + added = the current set, each index once; in current order.
        let mut current: Vec<usize> = d.same.iter().chain(&updated_current).chain(&d.added).copied().collect();
        current.sort_unstable();
        prop_assert_eq!(current, (0..b.len()).collect::<Vec<_>>());
        for bucket in [&d.same, &updated_current, &d.added, &d.removed] {
            prop_assert!(bucket.windows(2).all(|w| w[0] < w[1]), "a bucket is in set order");
        }
        // same + updated + removed = the previous set.
        let same_keys: Vec<&str> = keys(&b, &d.same);
        let mut previous: Vec<&str> = same_keys.clone();
        previous.extend(keys(&a, &updated_previous));
        previous.extend(keys(&a, &d.removed));
        previous.sort_unstable();
        let mut all_a: Vec<&str> = a.iter().map(Contract::key).collect();
        all_a.sort_unstable();
        prop_assert_eq!(previous, all_a);
        // Each bucket means what it says.
        for &i in &d.same {
            let old = a.iter().find(|c| c.key() == b[i].key());
            prop_assert!(old.is_some_and(|c| c.canonical_eq(&b[i])));
        }
        for u in &d.updated {
            prop_assert_eq!(a[u.previous].key(), b[u.current].key());
            prop_assert!(!a[u.previous].canonical_eq(&b[u.current]));
            let changed: Vec<Field> = a[u.previous].changed_fields(&b[u.current]).collect();
            prop_assert_eq!(changed, u.fields.iter().collect::<Vec<_>>());
        }
        for &i in &d.added {
            prop_assert!(a.iter().all(|c| c.key() != b[i].key()));
        }
        for &i in &d.removed {
            prop_assert!(b.iter().all(|c| c.key() != a[i].key()));
        }
        // The library's own checker agrees.
        sync_core::fuzzing::diff_invariants(&a, &b);
    }

    #[test]
    fn applying_the_diff_gives_the_current_set_in_its_order(a in contracts(), b in contracts(), seed in any::<u64>()) {
        let b = shuffled(b, seed);
        let d = diff(&a, &b);
        let applied = d.apply();
        prop_assert_eq!(applied.len(), b.len());
        for (got, want) in applied.iter().zip(&b) {
            prop_assert_eq!(got.key(), want.key());
            prop_assert!(got.canonical_eq(want), "{:?} != {:?}", got, want);
        }
        prop_assert!(diff(&applied, &b).is_unchanged());
    }

    #[test]
    fn canonical_variants_are_the_same(a in contracts(), upper in any::<bool>()) {
        // Spaces around every value, emails in another case, empty values dropped: all same.
        let variant: Vec<Contract<'static>> = a
            .iter()
            .map(|c| {
                Contract::from_pairs(c.fields().filter(|(_, v)| !v.trim().is_empty()).map(|(f, v)| {
                    let v = if f.is_email() && upper { v.to_uppercase() } else { v.to_owned() };
                    (f, Cow::Owned(format!(" {v}\t")))
                }))
            })
            .collect();
        prop_assert!(diff(&a, &variant).is_unchanged());
    }

    #[test]
    fn the_parallel_diff_is_the_sequential_one_on_any_number_of_threads(a in contracts(), b in contracts(), seed in any::<u64>()) {
        let b = shuffled(b, seed);
        let sequential = diff_sequential(&a, &b);
        let default_pool = diff(&a, &b);
        for threads in [1, 2, 4] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let parallel = pool.install(|| diff(&a, &b));
            prop_assert_eq!(&parallel.same, &sequential.same);
            prop_assert_eq!(&parallel.added, &sequential.added);
            prop_assert_eq!(&parallel.updated, &sequential.updated);
            prop_assert_eq!(&parallel.removed, &sequential.removed);
        }
        prop_assert_eq!(default_pool.same, sequential.same);
        prop_assert_eq!(default_pool.updated, sequential.updated);
    }

    #[test]
    fn validation_never_panics_on_arbitrary_json(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        sync_core::fuzzing::payload(&bytes);
        if let Ok(payload) = parse(&bytes) {
            let report = validate(&payload);
            prop_assert!(report.problems.iter().all(|p| p.index.is_none_or(|i| i < payload.contracts.len())));
        }
    }

    #[test]
    fn validation_never_panics_on_export_like_json(value in export_like(), pretty in any::<bool>()) {
        let bytes = if pretty {
            serde_json::to_vec_pretty(&value).unwrap()
        } else {
            serde_json::to_vec(&value).unwrap()
        };
        sync_core::fuzzing::payload(&bytes);
        let items = value.get("contrats").unwrap_or(&value).as_array().unwrap();
        match parse(&bytes) {
            Ok(payload) => {
                // Only arrays of objects parse, one contract per item.
                prop_assert!(items.iter().all(|i| i.is_object()));
                prop_assert_eq!(payload.contracts.len(), items.len());
                let report = validate(&payload);
                prop_assert!(report.problems.iter().all(|p| p.index.is_none_or(|i| i < items.len())));
                prop_assert!(report.problems.windows(2).all(|w| w[0].index.map_or(0, |i| i + 1) <= w[1].index.map_or(0, |i| i + 1)));
                // A value that is not a string (nor null) of a known field is an invalid_type.
                for (index, item) in items.iter().enumerate() {
                    for (name, v) in item.as_object().unwrap() {
                        if Field::from_name(name).is_some() && !v.is_string() && !v.is_null() {
                            prop_assert!(report.problems.iter().any(|p| p.index == Some(index)
                                && p.field.as_ref().map(|f| f.name()) == Some(name)
                                && p.code == sync_core::Code::InvalidType));
                        }
                    }
                }
            }
            Err(err) => {
                prop_assert!(!items.iter().all(|i| i.is_object()), "{}", err);
            }
        }
    }

    #[test]
    fn a_contract_is_written_as_serde_json_writes_it(
        values in proptest::collection::vec(proptest::option::of(any::<String>()), Field::ALL.len()),
    ) {
        let contract = Contract::from_pairs(
            Field::ALL.into_iter().zip(&values).filter_map(|(f, v)| Some((f, v.as_deref()?))),
        );
        let mut written = Vec::new();
        contract.write_json(&mut written);
        prop_assert_eq!(String::from_utf8(written).unwrap(), serde_json::to_string(&contract).unwrap());
    }

    #[test]
    fn validation_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        sync_core::fuzzing::payload(&bytes);
        if let Ok(payload) = parse(&bytes) {
            let _ = validate(&payload);
        }
    }
}

/// A change made to a contract of a generated set: a value copied from another contract
/// (maybe into another field: an apprentice's code as a tutor's, one user's email as
/// another's), a value that fails a check alone, or the whole contract sent again.
#[derive(Debug, Clone)]
enum Change {
    Copy {
        to: usize,
        from: usize,
        from_field: usize,
        to_field: usize,
    },
    Bad {
        to: usize,
        field: usize,
        value: &'static str,
    },
    Duplicate {
        at: usize,
        of: usize,
    },
}

/// The fields the changes touch: keys, users, references, the group and its placement.
const TOUCHED: [Field; 16] = [
    Field::CodeContrat,
    Field::CodeApprenant,
    Field::NomApprenant,
    Field::EmailApprenant,
    Field::CodePersonnel,
    Field::PrenomPersonnel,
    Field::EmailPersonnel,
    Field::CodeMaitreApprentissage,
    Field::EmailMaitreApprentissage,
    Field::CodeSite,
    Field::NomSite,
    Field::CodeGroupe,
    Field::NomGroupe,
    Field::CodePeriode,
    Field::DateDebut,
    Field::CodeMarque,
];

fn change() -> impl Strategy<Value = Change> {
    let place = 0usize..1000;
    let field = 0..TOUCHED.len();
    prop_oneof![
        4 => (place.clone(), place.clone(), field.clone(), field.clone()).prop_map(
            |(to, from, from_field, to_field)| Change::Copy { to, from, from_field, to_field }
        ),
        1 => (
            place.clone(),
            field,
            prop_oneof![Just(""), Just("pas-un-email"), Just("31/02/2024"), Just(" X ")]
        )
            .prop_map(|(to, field, value)| Change::Bad { to, field, value }),
        1 => (place.clone(), place).prop_map(|(at, of)| Change::Duplicate { at, of }),
    ]
}

/// Applies `changes` to `set` (places taken modulo its length).
fn changed(mut set: Vec<Contract<'static>>, changes: &[Change]) -> Vec<Contract<'static>> {
    for change in changes {
        let n = set.len();
        match *change {
            Change::Copy {
                to,
                from,
                from_field,
                to_field,
            } => {
                let value = set[from % n]
                    .get(TOUCHED[from_field])
                    .map(|v| Cow::Owned(v.to_owned()));
                set[to % n].set(TOUCHED[to_field], value);
            }
            Change::Bad { to, field, value } => {
                set[to % n].set(TOUCHED[field], Some(Cow::Borrowed(value)));
            }
            Change::Duplicate { at, of } => {
                let copy = set[of % n].clone();
                set.insert(at % (n + 1), copy);
            }
        }
    }
    set
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Validating a set since the one before (knowing which of its contracts are unchanged)
    /// reports exactly what validating it alone does: whatever the changes, wherever they
    /// fall, whether the set before had problems or not.
    #[test]
    fn validating_since_the_set_before_reports_what_validating_alone_does(
        contracts in 20usize..160,
        seed in any::<u64>(),
        rate in 0.0f64..0.3,
        before in proptest::collection::vec(change(), 0..2),
        after in proptest::collection::vec(change(), 0..12),
    ) {
        let generated = sync_core::gen::generate(&sync_core::gen::Options {
            contracts,
            seed,
            change_rate: rate,
        });
        // Now and then the set before has problems, left unchanged in the current set (then
        // nothing is reused).
        let (previous, current) = if seed % 4 == 0 {
            (changed(generated.previous, &before), changed(generated.current, &before))
        } else {
            (generated.previous, generated.current)
        };
        let current = changed(current, &after);
        let previous = sync_core::Payload::from_contracts(previous);
        let current = sync_core::Payload::from_contracts(current);
        let base = sync_core::Baseline::new(&previous);
        prop_assert_eq!(base.report(), &validate(&previous));
        let comparison = base.compare(&current);
        prop_assert_eq!(&comparison.report, &validate(&current));
        let alone = diff(&previous, &current);
        prop_assert_eq!(&comparison.diff.same, &alone.same);
        prop_assert_eq!(&comparison.diff.updated, &alone.updated);
    }
}
