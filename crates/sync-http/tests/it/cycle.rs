//! The cycle API of document 004 over HTTP: every route, every error code with its status,
//! the document's own example requests, the import, tenants kept apart, data kept on restart.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{start, Options, TOKEN_A, TOKEN_B};

/// Data in which the document's example ids exist.
fn import() -> Value {
    json!({
        "cycles": [{"cycleId": "vBW5xMw1VQ2A8DFaNy22zA", "adminName": "Nom administratif du cycle",
                    "name": {"texts": [{"text": "Mon règlement", "languageId": 1}]},
                    "ruleId": "vBW5xMw1VQ2A8DFaNy22zA", "isActive": true, "isDeleted": false}],
        "periods": [
            {"cyclePeriodId": "DTUvbcrKNN3szXg6aQY/Sg==", "cycleId": "vBW5xMw1VQ2A8DFaNy22zA", "adminName": "Nom de la période",
             "startDate": "2018-02-08T15:02:45.73", "duration": 2, "durationUnit": 4, "isRequirementsShown": false,
             "isUserStatement": true, "isActive": true, "isDeleted": true,
             "requirements": [{"id": " vBW5xMw1VQ2A8DFaNy22zA", "cyclePeriodId": "DTUvbcrKNN3szXg6aQY/Sg==", "type": 1, "targetValue": 40.0}]},
            {"cyclePeriodId": "p2021", "cycleId": "vBW5xMw1VQ2A8DFaNy22zA", "startDate": "2021-01-01T00:00:00Z"}
        ],
        "members": [
            {"userId": "nWJ7HZLyI8l2otoNsxuXgA==", "customFields": {"custom_field": "x"}},
            {"userId": "DTUvbcrKNN3szXg6aQY/Sg==", "customFields": {"member_status": "12345"}}
        ],
        "credits": [
            {"memberId": "nWJ7HZLyI8l2otoNsxuXgA==", "cyclePeriodId": "DTUvbcrKNN3szXg6aQY/Sg==", "kind": "completed", "credits": 22},
            {"memberId": "nWJ7HZLyI8l2otoNsxuXgA==", "cyclePeriodId": "DTUvbcrKNN3szXg6aQY/Sg==", "kind": "exempted", "credits": 8},
            {"memberId": "nWJ7HZLyI8l2otoNsxuXgA==", "cyclePeriodId": "DTUvbcrKNN3szXg6aQY/Sg==", "kind": "provider", "credits": 30}
        ]
    })
}

fn cycle(route: &str) -> String {
    format!("/lmsapi/cycle/{route}")
}

#[tokio::test]
async fn the_documents_requests_and_every_error_code() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), Options::default()).await;
    let (status, answer) = server
        .post("/lmsapi/admin/import", TOKEN_A, &import())
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["imported"]["periods"], 2);

    let (status, list) = server.post(&cycle("getlist"), TOKEN_A, &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["cycleId"], "vBW5xMw1VQ2A8DFaNy22zA");

    let request = json!({"id": "vBW5xMw1VQ2A8DFaNy22zA", "filterDate": "2020-01-01T00:00:00Z"});
    let (status, periods) = server
        .post(&cycle("getperiodlist"), TOKEN_A, &request)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(periods.as_array().unwrap().len(), 1);
    assert_eq!(periods[0]["cyclePeriodId"], "p2021");

    let request = json!({"id": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "memberId": "nWJ7HZLyI8l2otoNsxuXgA%3d%3d", "customFieldAPIName": "custom_field"});
    let (status, progress) = server
        .post(&cycle("getuserprogress"), TOKEN_A, &request)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        progress,
        json!({"id": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "memberId": "nWJ7HZLyI8l2otoNsxuXgA%3d%3d", "requiredCredits": 40.0,
               "completedCredits": 22.0, "exemptedCredits": 8.0, "providerCredits": 30.0, "customFieldAPIName": "custom_field"})
    );

    let request = json!({"userId": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "customFieldAPIName": "member_status", "customFieldValue": "12345",
        "statuses": [{"status": "Membre", "isActiveMember": true, "startDate": "2018-02-08T15:02:45.73", "endDate": "2018-02-08T15:02:45.73"}]});
    let (status, answer) = server
        .post(&cycle("updatememberstatuses"), TOKEN_A, &request)
        .await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"isSuccess": true}))
    );

    let request = json!({"userId": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "customFieldAPIName": "member_status", "customFieldValue": "12345"});
    let (status, statuses) = server
        .post(&cycle("getmemberstatuses"), TOKEN_A, &request)
        .await;
    assert_eq!(status, StatusCode::OK);
    let entry = statuses["statuses"][0]["entryId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(statuses["statuses"][0]["isActiveMember"], true);

    let request = json!({"customFieldAPIName": "member_status", "customFieldValue": "12345", "entryId": entry,
        "status": {"status": "Suspendu", "startDate": "2018-02-08T15:02:45.73", "endDate": "2018-03-08T15:02:45.73"}});
    let (status, answer) = server
        .post(&cycle("updatememberstatus"), TOKEN_A, &request)
        .await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"isSuccess": true}))
    );

    let request = json!({"userId": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "status": {"status": "Membre", "startDate": "2019-01-01T00:00:00"}});
    let (status, answer) = server
        .post(&cycle("changecurrentmemberstatus"), TOKEN_A, &request)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["isSuccess"], true);
    let (_, statuses) = server
        .post(
            &cycle("getmemberstatuses"),
            TOKEN_A,
            &json!({"userId": "DTUvbcrKNN3szXg6aQY/Sg=="}),
        )
        .await;
    let names: Vec<&str> = statuses["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Suspendu", "Membre"]);
    assert_eq!(
        statuses["statuses"][1]["isActiveMember"], true,
        "null isActiveMember follows Membre"
    );
    assert_eq!(statuses["statuses"][1]["entryId"], answer["entryId"]);

    let user = json!("DTUvbcrKNN3szXg6aQY/Sg==");
    let cases = [
        ("getperiodlist", json!({}), 1000),
        ("getperiodlist", json!({"id": "inconnu"}), 1001),
        ("getuserprogress", json!({"id": "p2021"}), 1002),
        (
            "getuserprogress",
            json!({"id": "p2021", "memberId": "inconnu"}),
            1003,
        ),
        ("getmemberstatuses", json!({"customFieldValue": "1"}), 1004),
        (
            "getmemberstatuses",
            json!({"customFieldAPIName": "inconnu", "customFieldValue": "1"}),
            1005,
        ),
        ("updatememberstatuses", json!({"userId": user}), 1006),
        (
            "updatememberstatuses",
            json!({"userId": user, "statuses": [{"status": "", "startDate": "2020-01-01T00:00:00"}]}),
            1007,
        ),
        (
            "updatememberstatus",
            json!({"userId": user, "entryId": "inconnu", "status": {"status": "Membre"}}),
            1008,
        ),
        ("getmemberstatuses", json!({"userId": "inconnu"}), 1009),
        (
            "changecurrentmemberstatus",
            json!({"userId": user, "status": {"status": "Membre", "startDate": "2000-01-01T00:00:00"}}),
            1010,
        ),
        (
            "getperiodlist",
            json!({"id": "vBW5xMw1VQ2A8DFaNy22zA", "filterDate": "01/01/2020"}),
            1010,
        ),
    ];
    for (route, request, code) in cases {
        let (status, answer) = server.post(&cycle(route), TOKEN_A, &request).await;
        let expected = if [1001, 1003, 1005, 1008, 1009].contains(&code) {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(status, expected, "{route} {request}: {answer}");
        assert_eq!(answer["isSuccess"], false);
        assert_eq!(answer["errorCode"], code, "{route} {request}: {answer}");
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A refused change left the timeline as it was.
    let (_, after) = server
        .post(
            &cycle("getmemberstatuses"),
            TOKEN_A,
            &json!({"userId": "DTUvbcrKNN3szXg6aQY/Sg=="}),
        )
        .await;
    assert_eq!(after, statuses);
    server.stop().await;
}

#[tokio::test]
async fn import_is_refused_whole_tenants_are_apart_and_data_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), Options::default()).await;
    let bad = json!({"cycles": [{"adminName": "sans id"}], "periods": [{"cyclePeriodId": "p", "cycleId": "x", "startDate": "demain"}]});
    // A cycle without its id is the body's shape: 400, with every problem still listed.
    let (status, answer) = server.post("/lmsapi/admin/import", TOKEN_A, &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_json", "{answer}");
    assert_eq!(
        answer["error"]["details"].as_array().unwrap().len(),
        3,
        "{answer}"
    );
    // The right shape, values that break a rule (a date, an unknown cycle): 422, every one.
    let bad = json!({"periods": [{"cyclePeriodId": "p", "cycleId": "x", "startDate": "demain"}]});
    let (status, answer) = server.post("/lmsapi/admin/import", TOKEN_A, &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(
        answer["error"]["details"].as_array().unwrap().len(),
        2,
        "{answer}"
    );
    let (_, list) = server.post(&cycle("getlist"), TOKEN_A, &json!({})).await;
    assert_eq!(list, json!([]), "nothing was loaded");

    let (status, _) = server
        .post("/lmsapi/admin/import", TOKEN_A, &import())
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, other) = server.post(&cycle("getlist"), TOKEN_B, &json!({})).await;
    assert_eq!(other, json!([]), "tenant b sees nothing of tenant a");
    let (status, _) = server
        .call(Method::POST, &cycle("getlist"), None, Some(&json!({})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, answer) = server
        .raw(
            Method::POST,
            &cycle("getperiodlist"),
            Some(TOKEN_A),
            Some(b"{id:".to_vec()),
            "application/json",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    server.stop().await;

    let server = start(dir.path(), Options::default()).await;
    let (_, list) = server.post(&cycle("getlist"), TOKEN_A, &json!({})).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "kept across a restart");
    let (_, openapi) = server.get("/openapi.json", TOKEN_A).await;
    assert!(openapi["paths"]["/lmsapi/cycle/changecurrentmemberstatus"]["post"].is_object());
    server.stop().await;
}
