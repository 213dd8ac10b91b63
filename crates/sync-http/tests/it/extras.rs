//! Sandbox delete, session models and the integrated listing, absences.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{contracts, detail_codes, error_code, start, Options, TOKEN_A};

const SYNC: &str = "/api/sync/v2/contrats";

#[tokio::test]
async fn delete_only_for_sandbox_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), Options::default()).await;
    s.post(SYNC, TOKEN_A, &Value::Array(contracts(5, 5))).await;
    let (status, body) = s
        .call(Method::DELETE, "/api/sync/v1/contrats", Some(TOKEN_A), None)
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    s.stop().await;

    // Started again with `sandbox`: a stored tenant keeps its flag, only new ones take it.
    let sandbox = Options {
        sandbox: true,
        ..Options::default()
    };
    let s = start(dir.path(), sandbox).await;
    let (status, _) = s
        .call(Method::DELETE, "/api/sync/v1/contrats", Some(TOKEN_A), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), sandbox).await;
    s.post(SYNC, TOKEN_A, &Value::Array(contracts(5, 5))).await;
    let (status, _) = s
        .call(Method::DELETE, "/api/sync/v1/contrats", Some(TOKEN_A), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, all) = s.get("/api/sync/v1/contrats-get-all", TOKEN_A).await;
    assert_eq!(all["total"], 0);
    s.stop().await;
}

#[tokio::test]
async fn session_models_decide_the_integrated_list() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), Options::default()).await;
    let set = contracts(60, 6);
    s.post(SYNC, TOKEN_A, &Value::Array(set.clone())).await;
    let (_, integrated) = s.get("/api/sync/v1/contrats", TOKEN_A).await;
    assert_eq!(integrated["total"], 0, "no model, nothing integrated");

    let formation = set[0]["codeFormation"].clone();
    let year = set[0]["codeAnnee"].clone();
    let expected = set
        .iter()
        .filter(|c| c["codeFormation"] == formation && c["codeAnnee"] == year)
        .count();
    let models = json!([{"codeFormation": formation, "codeAnnee": year}]);
    let (status, body) = s
        .call(
            Method::PUT,
            "/api/sync/v1/session-models",
            Some(TOKEN_A),
            Some(&models),
        )
        .await;
    assert_eq!((status, &body), (StatusCode::OK, &models));
    let (_, got) = s.get("/api/sync/v1/session-models", TOKEN_A).await;
    assert_eq!(got, models);
    let (_, integrated) = s.get("/api/sync/v1/contrats?limit=1000", TOKEN_A).await;
    assert_eq!(integrated["total"], expected);
    assert!(integrated["contrats"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["codeFormation"] == formation));

    // Narrowed to a site that no contract has: nothing integrated.
    let narrow =
        json!([{"codeFormation": formation, "codeAnnee": year, "codeSite": "NO-SUCH-SITE"}]);
    s.call(
        Method::PUT,
        "/api/sync/v1/session-models",
        Some(TOKEN_A),
        Some(&narrow),
    )
    .await;
    let (_, integrated) = s.get("/api/sync/v1/contrats", TOKEN_A).await;
    assert_eq!(integrated["total"], 0);

    let (status, body) = s
        .call(
            Method::PUT,
            "/api/sync/v1/session-models",
            Some(TOKEN_A),
            Some(&json!([{"codeFormation": " ", "codeAnnee": "Y"}])),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    let (status, _) = s
        .call(
            Method::PUT,
            "/api/sync/v1/session-models",
            Some(TOKEN_A),
            Some(&json!([{"codeAnnee": "Y"}])),
        )
        .await;
    // A model without codeFormation is not the route's shape: 400.
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.stop().await;
}

#[tokio::test]
async fn absences_replace_a_students_list() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), Options::default()).await;
    let set = contracts(10, 7);
    s.post(SYNC, TOKEN_A, &Value::Array(set.clone())).await;
    let email = set[0]["emailApprenant"].as_str().unwrap().to_uppercase();
    let path = "/api/sync/v1/absences-for-student";

    let body = json!({"email": email, "data": [
        {"dateDebut": "01/09/2025-08:00", "dateFin": "01/09/2025-12:00", "type": "absence", "isJusitifie": true, "motif": "malade"},
        {"dateDebut": "02/09/2025-08:00", "dateFin": "02/09/2025-08:15", "type": "retard", "isJustifie": false},
    ]});
    let (status, answer) = s.post(path, TOKEN_A, &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["absences"], 2);
    let (status, listed) = s
        .get(
            &format!(
                "{path}?email={}",
                set[0]["emailApprenant"].as_str().unwrap()
            ),
            TOKEN_A,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["absences"][1]["type"], "retard");
    assert_eq!(listed["absences"][0]["isJusitifie"], true);

    // Every bad item at once, and the stored list is untouched.
    let bad = json!({"email": email, "data": [
        {"dateDebut": "01/09/2025-08:00", "dateFin": "01/09/2025-07:00", "type": "absence", "isJusitifie": true},
        {"dateDebut": "01/09/2025", "dateFin": "01/09/2025-07:00", "type": "vacances", "isJusitifie": true},
    ]});
    let (status, answer) = s.post(path, TOKEN_A, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        detail_codes(&answer),
        ["date_order", "invalid_date", "invalid_value"]
    );
    assert_eq!(answer["error"]["details"][1]["index"], 1);

    // Replacing with an empty list.
    let (status, _) = s
        .post(path, TOKEN_A, &json!({"email": email, "data": []}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = s.get(&format!("{path}?email={email}"), TOKEN_A).await;
    assert_eq!(listed["absences"], json!([]));

    // A tutor's email, or nobody's: 404. No email parameter: 400.
    let tutor = set[0]["emailPersonnel"].clone();
    let (status, body) = s
        .post(path, TOKEN_A, &json!({"email": tutor, "data": []}))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, _) = s
        .post(
            path,
            TOKEN_A,
            &json!({"email": "nobody@example.org", "data": []}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.get(path, TOKEN_A).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A body without `data` is not the route's shape: 400.
    let (status, _) = s.post(path, TOKEN_A, &json!({"email": email})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.stop().await;
}
