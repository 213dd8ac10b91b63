//! Group calendars fetched from a calendar served by the test on loopback.

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::{contracts, error_code, start, Options, TOKEN_A, TOKEN_B};

const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//test//EN\r\n\
BEGIN:VEVENT\r\nUID:e1\r\nDTSTART:20250901T080000Z\r\nDTEND:20250901T120000Z\r\nSUMMARY:Vente\r\nLOCATION:Salle 1\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:e2\r\nDTSTART:20250903T130000Z\r\nDTEND:20250903T170000Z\r\nSUMMARY:Gestion\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

/// Serves `/cal.ics`, `/page.html` and a redirect on loopback; stops with the test's runtime.
pub async fn calendar_host() -> String {
    let app = Router::new()
        .route(
            "/cal.ics",
            get(|| async { ([("content-type", "text/calendar")], ICS) }),
        )
        .route(
            "/page.html",
            get(|| async { "<html>not a calendar</html>" }),
        )
        .route(
            "/moved",
            get(|| async { (StatusCode::FOUND, [("location", "/cal.ics")], "") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("127.0.0.1:{}", addr.port())
}

#[tokio::test]
async fn group_calendar_from_loopback() {
    let host = calendar_host().await;
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        dir.path(),
        Options {
            allow_private: true,
            ..Options::default()
        },
    )
    .await;
    let set = contracts(10, 8);
    s.post("/api/sync/v2/contrats", TOKEN_A, &Value::Array(set.clone()))
        .await;
    let group = set[0]["codeGroupe"].as_str().unwrap();
    let path = "/api/sync/v1/calendar-group-ics";

    let (status, body) = s
        .post(
            path,
            TOKEN_A,
            &json!({"groupId": group, "calendarUrl": format!("webcal://{host}/cal.ics")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"groupId": group, "events": 2, "from": "2025-09-01T08:00:00Z", "to": "2025-09-03T17:00:00Z"})
    );
    let (status, listed) = s.get(&format!("{path}/{group}"), TOKEN_A).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["events"][0]["summary"], "Vente");
    assert_eq!(listed["events"][0]["location"], "Salle 1");
    assert_eq!(listed["events"].as_array().unwrap().len(), 2);
    let (_, other) = s.get(&format!("{path}/{group}"), TOKEN_B).await;
    assert_eq!(
        other["events"],
        json!([]),
        "tenant b sees no events of tenant a"
    );

    for (url, why) in [
        (format!("http://{host}/page.html"), "iCalendar"),
        (format!("http://{host}/missing.ics"), "404"),
        (format!("http://{host}/moved"), "redirect"),
        ("ftp://example.org/cal.ics".to_owned(), "scheme"),
        (
            "http://127.0.0.1:1/cal.ics".to_owned(),
            "could not be fetched",
        ),
    ] {
        let (status, body) = s
            .post(
                path,
                TOKEN_A,
                &json!({"groupId": group, "calendarUrl": url}),
            )
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "calendar_unusable"),
            "{url}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{url}: {message}");
    }
    let (_, listed) = s.get(&format!("{path}/{group}"), TOKEN_A).await;
    assert_eq!(
        listed["events"].as_array().unwrap().len(),
        2,
        "failed fetches keep the stored events"
    );

    let (status, body) = s
        .post(
            path,
            TOKEN_A,
            &json!({"groupId": "NO-SUCH-GROUP", "calendarUrl": format!("http://{host}/cal.ics")}),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, _) = s
        .post(
            path,
            TOKEN_B,
            &json!({"groupId": group, "calendarUrl": format!("http://{host}/cal.ics")}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "tenant b has no such group");
    s.stop().await;
}

#[tokio::test]
async fn private_addresses_are_refused_by_default() {
    let host = calendar_host().await;
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), Options::default()).await;
    let set = contracts(10, 9);
    s.post("/api/sync/v2/contrats", TOKEN_A, &Value::Array(set.clone()))
        .await;
    let group = set[0]["codeGroupe"].as_str().unwrap();
    for url in [
        format!("http://{host}/cal.ics"),
        format!("http://localhost:{}/cal.ics", &host[10..]),
        "http://[::1]/cal.ics".to_owned(),
        "http://169.254.169.254/latest".to_owned(),
    ] {
        let (status, body) = s
            .post(
                "/api/sync/v1/calendar-group-ics",
                TOKEN_A,
                &json!({"groupId": group, "calendarUrl": url}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("private"),
            "{url}: {body}"
        );
    }
    s.stop().await;
}
