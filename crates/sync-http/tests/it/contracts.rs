//! Contract sync: auth, sync and re-sync, conflicts, mass removal, paging, delta, dry run,
//! body errors, restart.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{codes, contracts, detail_codes, error_code, start, Options, TOKEN_A, TOKEN_B};

const SYNC: &str = "/api/sync/v2/contrats";
const ALL: &str = "/api/sync/v1/contrats-get-all";

#[tokio::test]
async fn auth_token_check_openapi_and_unknown_route() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), Options::default()).await;

    let (status, doc) = s.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        SYNC,
        "/api/sync/v2/contrats/changes",
        "/api/sync/v1/contrats-diff",
        ALL,
        "/api/sync/v1/contrats",
        "/api/sync/v1/calendar-group-ics",
        "/api/sync/v1/absences-for-student",
        "/api/sync/v1/session-models",
        "/api/sync/v1/test",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }

    let (status, body) = s.call(Method::GET, "/api/sync/v1/test", None, None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (status, _) = s.get("/api/sync/v1/test", "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = s.call(Method::POST, SYNC, None, Some(&json!([]))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = s.get("/api/sync/v1/test", TOKEN_A).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"value": "token valid", "name": "a"}));

    let (status, body) = s.get("/api/sync/v1/nothing-here", TOKEN_A).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    s.stop().await;
}

#[tokio::test]
async fn sync_resync_update_isolation_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), Options::default()).await;
    let mut set = contracts(30, 1);

    let (status, body) = s.post(SYNC, TOKEN_A, &Value::Array(set.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["summary"],
        json!({"same": 0, "added": 30, "updated": 0, "removed": 0})
    );
    assert_eq!(body["total"], 30);
    assert_eq!(body["contrats"].as_array().unwrap().len(), 30);

    // The same payload again, in the object form: all same, nothing written.
    let (status, body) = s.post(SYNC, TOKEN_A, &json!({"contrats": set})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["summary"],
        json!({"same": 30, "added": 0, "updated": 0, "removed": 0})
    );

    // One change: one update, and the dry run tells which field first.
    set[3]["nomEntreprise"] = json!("Nouvelle Entreprise");
    let (status, body) = s
        .post(
            "/api/sync/v1/contrats-diff",
            TOKEN_A,
            &Value::Array(set.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["summary"]["updated"], 1);
    assert_eq!(body["same"].as_array().unwrap().len(), 29);
    let code = set[3]["codeContrat"].as_str().unwrap();
    assert_eq!(body["changes"][code][0]["field"], "nomEntreprise");
    assert_eq!(body["changes"][code][0]["new"], "Nouvelle Entreprise");
    let (_, stored) = s.get(&format!("{ALL}?limit=100"), TOKEN_A).await;
    let stored3 = stored["contrats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["codeContrat"] == code)
        .unwrap()
        .clone();
    assert_ne!(
        stored3["nomEntreprise"], "Nouvelle Entreprise",
        "the dry run wrote nothing"
    );
    let (status, body) = s.post(SYNC, TOKEN_A, &Value::Array(set.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["summary"],
        json!({"same": 29, "added": 0, "updated": 1, "removed": 0})
    );

    // Tenant b sees nothing of tenant a.
    let (status, body) = s.get(ALL, TOKEN_B).await;
    assert_eq!((status, body["total"].clone()), (StatusCode::OK, json!(0)));
    let (status, body) = s
        .post(
            "/api/sync/v1/contrats-diff",
            TOKEN_B,
            &Value::Array(set.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["summary"]["added"], 30);

    // Paging, ordered by codeContrat, total counts everything.
    let mut sorted: Vec<String> = set
        .iter()
        .map(|c| c["codeContrat"].as_str().unwrap().to_owned())
        .collect();
    sorted.sort();
    let (status, page) = s.get(&format!("{ALL}?limit=7&page=2"), TOKEN_A).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 30);
    assert_eq!(codes(&page), sorted[7..14]);
    let (_, last) = s.get(&format!("{ALL}?limit=7&page=5"), TOKEN_A).await;
    assert_eq!(codes(&last), sorted[28..]);
    let (_, beyond) = s.get(&format!("{ALL}?limit=7&page=9"), TOKEN_A).await;
    assert_eq!(
        (beyond["total"].clone(), codes(&beyond).len()),
        (json!(30), 0)
    );
    for bad in [
        "limit=0",
        "limit=abc",
        "page=0",
        "page=-2",
        "limit=10001",
        "limit=1.5",
    ] {
        let (status, body) = s.get(&format!("{ALL}?{bad}"), TOKEN_A).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "invalid_parameter"),
            "{bad}"
        );
    }

    // A restart keeps the data and the tokens.
    s.stop().await;
    let s = start(dir.path(), Options::default()).await;
    let (status, page) = s.get(&format!("{ALL}?limit=1000"), TOKEN_A).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(codes(&page), sorted);
    let (_, body) = s.post(SYNC, TOKEN_A, &Value::Array(set)).await;
    assert_eq!(body["summary"]["same"], 30);
    s.stop().await;
}

#[tokio::test]
async fn refused_syncs_leave_the_previous_set_intact() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), Options::default()).await;
    let set = contracts(30, 2);
    let (status, _) = s.post(SYNC, TOKEN_A, &Value::Array(set.clone())).await;
    assert_eq!(status, StatusCode::OK);
    let (_, before) = s.get(ALL, TOKEN_A).await;

    // In-payload problems: every one reported, with the core's problem objects.
    let mut bad = set.clone();
    bad[0].as_object_mut().unwrap().remove("nomGroupe");
    bad[5]["dateDebut"] = json!("31/02/2025");
    bad.push(bad[1].clone());
    let (status, body) = s.post(SYNC, TOKEN_A, &Value::Array(bad)).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    let found = detail_codes(&body);
    for code in ["missing_field", "invalid_date", "duplicate_contract"] {
        assert!(found.iter().any(|c| c == code), "{code} not in {found:?}");
    }
    let first = &body["error"]["details"][0];
    assert_eq!(first["index"], 0);
    assert_eq!(first["field"], "nomGroupe");
    assert_eq!(first["codeContrat"], set[0]["codeContrat"]);

    // A stored account bound differently: a known apprentice code reused as a school tutor in
    // a new contract, and a stored email given to a new user code.
    let mut conflicting = set.clone();
    let mut extra = set[0].clone();
    extra["codeContrat"] = json!("NEW-1");
    extra["codePersonnel"] = set[0]["codeApprenant"].clone();
    extra["emailPersonnel"] = set[0]["emailApprenant"].clone();
    conflicting.push(extra);
    let (status, body) = s
        .post(SYNC, TOKEN_A, &Value::Array(conflicting.clone()))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        detail_codes(&body)
            .iter()
            .any(|c| c == "code_role_conflict"),
        "{body}"
    );

    // The same conflict against an archived contract: remove set[0] first.
    let (status, _) = s
        .post(SYNC, TOKEN_A, &Value::Array(set[1..].to_vec()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut reuse = set[1..].to_vec();
    let mut other = set[1].clone();
    other["codeContrat"] = json!("NEW-2");
    other["codeApprenant"] = json!("SOMEONE-NEW");
    other["emailApprenant"] = set[0]["emailApprenant"].clone();
    reuse.push(other);
    let (status, body) = s.post(SYNC, TOKEN_A, &Value::Array(reuse)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        detail_codes(&body).iter().any(|c| c == "email_conflict"),
        "{body}"
    );

    // Nothing of the refused syncs was written; set[0] is archived, then comes back.
    let (_, after) = s.get(ALL, TOKEN_A).await;
    assert_eq!(after["total"], 29);
    let (status, body) = s.post(SYNC, TOKEN_A, &Value::Array(set.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["summary"]["added"], 1);
    let (_, again) = s.get(ALL, TOKEN_A).await;
    assert_eq!(again, before);
    s.stop().await;
}

#[tokio::test]
async fn mass_removal_guard() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), Options::default()).await;
    let set = contracts(30, 3);
    s.post(SYNC, TOKEN_A, &Value::Array(set.clone())).await;

    // 10 of 30 (33%) would be archived.
    let (status, body) = s
        .post(SYNC, TOKEN_A, &Value::Array(set[..20].to_vec()))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "mass_removal")
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("10 of 30"), "{message}");
    assert_eq!(body["error"]["details"][0]["removed"], 10);
    // An empty list over a non-empty set is the same case.
    let (status, body) = s.post(SYNC, TOKEN_A, &json!([])).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "mass_removal")
    );
    let (_, all) = s.get(ALL, TOKEN_A).await;
    assert_eq!(all["total"], 30);
    // 9 of 30 (30%) passes.
    let (status, body) = s
        .post(SYNC, TOKEN_A, &Value::Array(set[..21].to_vec()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["summary"]["removed"], 9);
    // Confirmed, it goes through.
    let (status, body) = s
        .post(
            &format!("{SYNC}?allowMassRemoval=true"),
            TOKEN_A,
            &json!([]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["summary"]["removed"], 21);
    let (status, _) = s
        .post(
            &format!("{SYNC}?allowMassRemoval=maybe"),
            TOKEN_A,
            &json!([]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.stop().await;
}

#[tokio::test]
async fn changes_route_merges_a_delta() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), Options::default()).await;
    let set = contracts(40, 4);
    s.post(SYNC, TOKEN_A, &Value::Array(set[..30].to_vec()))
        .await;
    let path = "/api/sync/v2/contrats/changes";

    let mut updated = set[0].clone();
    updated["missionTitle"] = json!("Vendeur");
    let delta = json!({"changes": {"added": [set[30], set[31]], "updated": [updated], "removed": [set[1]["codeContrat"]]}});
    let (status, body) = s.post(path, TOKEN_A, &delta).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["summary"],
        json!({"same": 28, "added": 2, "updated": 1, "removed": 1})
    );
    assert_eq!(body["total"], 31);

    // Bad items are all reported; nothing changes.
    let delta = json!({"changes": {"added": [set[2]], "updated": [set[35]], "removed": ["NOPE"]}});
    let (status, body) = s.post(path, TOKEN_A, &delta).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail_codes(&body),
        ["already_active", "unknown_contract", "unknown_contract"]
    );
    assert_eq!(body["error"]["details"][2]["list"], "removed");

    // Removing most of the set through a delta is a mass removal too.
    let removed: Vec<Value> = set[2..20]
        .iter()
        .map(|c| c["codeContrat"].clone())
        .collect();
    let (status, body) = s
        .post(path, TOKEN_A, &json!({"changes": {"removed": removed}}))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "mass_removal")
    );
    let (_, all) = s.get(ALL, TOKEN_A).await;
    assert_eq!(all["total"], 31);

    // A body without `changes` is not the route's shape: 400 naming where.
    let (status, body) = s.post(path, TOKEN_A, &json!({"nothing": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_code(&body), "invalid_json", "{body}");
    s.stop().await;
}

#[tokio::test]
async fn body_errors_400_413_415() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        dir.path(),
        Options {
            max_body_mb: Some(1),
            ..Options::default()
        },
    )
    .await;

    let (status, body) = s
        .raw(
            Method::POST,
            SYNC,
            Some(TOKEN_A),
            Some(b"[{\"codeContrat\": }]".to_vec()),
            "application/json",
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 1"),
        "{body}"
    );
    assert_eq!(detail_codes(&body), ["invalid_json"]);
    let (status, body) = s
        .raw(
            Method::POST,
            SYNC,
            Some(TOKEN_A),
            Some(b"{\"a\": 1}".to_vec()),
            "application/json",
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );

    let (status, body) = s
        .raw(
            Method::POST,
            SYNC,
            Some(TOKEN_A),
            Some(b"[]".to_vec()),
            "text/plain",
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_json")
    );
    let (status, _) = s
        .raw(
            Method::POST,
            "/api/sync/v1/absences-for-student",
            Some(TOKEN_A),
            Some(b"{}".to_vec()),
            "application/x-www-form-urlencoded",
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A file saved as Latin-1 is refused with what to do about it; one saved with a UTF-8
    // byte order mark is taken.
    let (status, body) = s
        .raw(
            Method::POST,
            SYNC,
            Some(TOKEN_A),
            Some(b"[{\"codeContrat\": \"C\xe9\"}]".to_vec()),
            "application/json",
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("byte 0xE9 is not UTF-8"), "{body}");
    let set = serde_json::to_vec(&crate::contracts(3, 1)).unwrap();
    let (status, body) = s
        .raw(
            Method::POST,
            SYNC,
            Some(TOKEN_A),
            Some([&b"\xef\xbb\xbf"[..], &set].concat()),
            "application/json",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["summary"]["added"], 3, "{body}");

    let big = format!("[{}]", vec!["{\"codeContrat\": \"x\"}"; 80_000].join(","));
    assert!(big.len() > 1 << 20);
    let (status, body) = s
        .raw(
            Method::POST,
            SYNC,
            Some(TOKEN_A),
            Some(big.into_bytes()),
            "application/json",
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
    );
    s.stop().await;
}
