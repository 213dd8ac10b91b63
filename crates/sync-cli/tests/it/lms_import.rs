//! `sync-cli lms-import` against the project's own server, started on 127.0.0.1 by the test.

use crate::{data, sync_cli, sync_cli_with};

#[test]
fn loads_cycle_data_and_shows_a_refusal() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = sync_http::ServeConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        store: sync_store::StoreLocation::Directory(dir.path().to_path_buf()),
        tokens: vec![("school".into(), "tok".into())],
        sandbox: false,
        calendar_allow_private: false,
        max_body_mb: 16,
        metrics: true,
        ..sync_http::ServeConfig::default()
    };
    let server = runtime.block_on(sync_http::start(config)).unwrap();
    let url = format!("http://{}", server.addr());

    let run = sync_cli_with(
        &["lms-import", &data("cycles.json"), "--url", &url],
        &[("SYNC_TOKEN", "tok")],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.trim(),
        "imported: 1 cycles, 1 periods, 1 members, 1 credits"
    );
    assert!(!run.stdout.contains("tok") && !run.stderr.contains("tok"));

    let progress = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/lmsapi/cycle/getuserprogress"))
            .bearer_auth("tok")
            .header("Content-Type", "application/json")
            .body(r#"{"id": "DTUvbcrKNN3szXg6aQY%2fSg%3d%3d", "memberId": "nWJ7HZLyI8l2otoNsxuXgA%3d%3d"}"#)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    });
    let progress: serde_json::Value = serde_json::from_slice(&progress).unwrap();
    assert_eq!(progress["completedCredits"], 22.0);
    assert_eq!(progress["requiredCredits"], 40.0);

    // The same file with a UTF-8 byte order mark, as Windows tools write it.
    let with_bom = dir.path().join("with_bom.json");
    let cycles = std::fs::read(crate::data_path("cycles.json")).unwrap();
    std::fs::write(&with_bom, [&b"\xef\xbb\xbf"[..], &cycles].concat()).unwrap();
    let run = sync_cli(&[
        "lms-import",
        with_bom.to_str().unwrap(),
        "--url",
        &url,
        "--token",
        "tok",
    ]);
    assert_eq!(run.code, 0, "{run:?}");

    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"periods": [{"cyclePeriodId": "p", "cycleId": "inconnu"}]}"#,
    )
    .unwrap();
    let run = sync_cli(&[
        "lms-import",
        bad.to_str().unwrap(),
        "--url",
        &url,
        "--token",
        "tok",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("422"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("periods[0].cycleId: no cycle has this id"),
        "{}",
        run.stderr
    );

    std::fs::write(&bad, "{cycles: []}").unwrap();
    let run = sync_cli(&[
        "lms-import",
        bad.to_str().unwrap(),
        "--url",
        &url,
        "--token",
        "tok",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("invalid_json at line 1, column 2"),
        "{}",
        run.stderr
    );

    let run = sync_cli(&[
        "lms-import",
        &data("cycles.json"),
        "--url",
        &url,
        "--token",
        "wrong",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    let run = sync_cli(&[
        "lms-import",
        "missing.json",
        "--url",
        &url,
        "--token",
        "tok",
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    runtime.block_on(server.stop()).unwrap();
}
