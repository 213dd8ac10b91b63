//! Browser tests: headless Chromium driven through chromedriver (WebDriver, `fantoccini`), on
//! the HTML report written by `sync-cli diff` and on the review page of a held run.
//!
//! They need Chromium and its driver (Debian's `chromium` and `chromium-driver`, found at
//! `/usr/bin/chromium` and `/usr/bin/chromedriver`, or where `CHROMIUM` and `CHROMEDRIVER`
//! say). Without them a test prints a line and passes, except with `CI=true`, where it
//! fails: `.ci/browser.sh` installs them. With `SYNC_SCREENSHOTS=DIR` each test also saves a
//! PNG of its page into DIR (`scripts/screenshots.sh`).

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::report::{count, report};
use crate::served::Served;
use crate::{data, sync_cli};

/// Chromium's flags that work in a container without a display, a sandbox or a network.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// A chromedriver of this test and the browser session it opened; both ended when dropped.
pub struct Browser {
    driver: Child,
    pub client: Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port of 127.0.0.1 and opens a headless Chromium; `None`
    /// (after printing why) when they are not installed, a failure with `CI=true`.
    pub async fn start(test: &str) -> Option<Browser> {
        let chromium = tool("CHROMIUM", "/usr/bin/chromium");
        let driver = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
        if let Some(missing) = [&chromium, &driver].into_iter().find(|p| !p.exists()) {
            let why = format!(
                "{} not found (apt-get install chromium chromium-driver)",
                missing.display()
            );
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: {why}"
            );
            println!("skipping browser test {test}: {why}");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // Its own process group, so that the browser it starts is ended with it.
        let driver = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let browser = Browser {
            driver,
            client: ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
                .expect("a Chromium session"),
            _profile: profile,
        };
        browser.client.set_window_size(1280, 900).await.unwrap();
        Some(browser)
    }

    /// Ends the session (the browser quits), then chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// The text of the element `css`.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// The number shown for `name` (`same`, `added`, ...).
    pub async fn count(&self, name: &str) -> usize {
        self.text(&format!("#count-{name}")).await.parse().unwrap()
    }

    /// The codes of the changes laid out on screen (not hidden), in order.
    pub async fn shown_codes(&self) -> Vec<String> {
        let script =
            "return Array.from(document.querySelectorAll('#changes>tbody.c>tr:first-child>th'))\
            .filter(function (th) { return th.getClientRects().length > 0; })\
            .map(function (th) { return th.textContent; });";
        let codes = self.client.execute(script, vec![]).await.unwrap();
        serde_json::from_value(codes).unwrap()
    }

    /// Types `text` into the filter box, after clearing it.
    pub async fn filter(&self, text: &str) {
        let field = self.client.find(Locator::Css("#q")).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Waits (at most 10 s) until the page's URL contains `text`: a navigation happened.
    pub async fn wait_for_url_with(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self
            .client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains(text)
        {
            assert!(Instant::now() < deadline, "no page with {text} in its URL");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// With `SYNC_SCREENSHOTS=DIR`, saves the whole page as DIR/`name`.png.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("SYNC_SCREENSHOTS") else {
            return;
        };
        let png = self.client.screenshot().await.unwrap();
        let path = Path::new(&dir).join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("saved {}", path.display());
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: chromedriver and any browser process still alive.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}

fn tool(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Runs a browser test on a runtime of its own.
fn run<F: std::future::Future<Output = ()>>(test: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test)
}

/// `file://` URL of a local file.
fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

#[test]
fn the_html_report_shows_the_counts_and_filters_rows() {
    run(async {
        let Some(browser) =
            Browser::start("the_html_report_shows_the_counts_and_filters_rows").await
        else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report.html");
        let (run, _) = report(&data("previous.json"), &data("current.json"), &out);
        assert_eq!(run.code, 0, "{run:?}");
        browser.client.goto(&file_url(&out)).await.unwrap();

        let counts = [
            browser.count("same").await,
            browser.count("added").await,
            browser.count("updated").await,
            browser.count("removed").await,
        ];
        assert_eq!(counts, [2, 2, 1, 1]);
        assert_eq!(
            browser.shown_codes().await,
            ["CT-0003", "CT-0002", "CT-0005", "CT-0006"]
        );
        assert_eq!(browser.text("#matching").await, "4 matching change(s)");
        // One page: no paging shown.
        let nav = browser.client.find(Locator::Css("#nav")).await.unwrap();
        assert!(!nav.is_displayed().await.unwrap());
        // The updated field as displayed: old and new side by side.
        let field = browser.text("#changes table.f tbody tr:first-child").await;
        assert_eq!(field, "dateFin 30/06/2027 (absent)");
        browser.screenshot("diff-report").await;

        // By code, then by apprentice name (case insensitive), then nothing.
        browser.filter("ct-0005").await;
        assert_eq!(browser.shown_codes().await, ["CT-0005"]);
        assert_eq!(browser.text("#matching").await, "1 matching change(s)");
        browser.filter("MARTIN2").await;
        assert_eq!(browser.shown_codes().await, ["CT-0002"]);
        browser.filter("nobody").await;
        assert!(browser.shown_codes().await.is_empty());
        assert_eq!(browser.text("#matching").await, "0 matching change(s)");
        browser.filter("").await;
        assert_eq!(browser.shown_codes().await.len(), 4);
        browser.close().await;
    });
}

#[test]
fn a_large_report_is_paged_in_the_file() {
    run(async {
        let Some(browser) = Browser::start("a_large_report_is_paged_in_the_file").await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let school = dir.path().join("school");
        let generated = sync_cli(&[
            "gen",
            "--contracts",
            "600",
            "--change-rate",
            "0.75",
            "--out",
            school.to_str().unwrap(),
        ]);
        assert_eq!(generated.code, 0, "{generated:?}");
        let out = dir.path().join("report.html");
        let (run, html) = report(
            school.join("previous.json").to_str().unwrap(),
            school.join("current.json").to_str().unwrap(),
            &out,
        );
        assert_eq!(run.code, 0, "{run:?}");
        let changes = count(&html, "added") + count(&html, "updated") + count(&html, "removed");
        assert!(changes > 400, "{changes} changes: three pages wanted");
        let pages = changes.div_ceil(200);
        browser.client.goto(&file_url(&out)).await.unwrap();

        assert_eq!(browser.shown_codes().await.len(), 200);
        assert_eq!(
            browser.text("#pageinfo").await,
            format!("page 1 of {pages}")
        );
        let first_page = browser.shown_codes().await;
        let next = browser.client.find(Locator::Css("#next")).await.unwrap();
        for _ in 1..pages {
            next.click().await.unwrap();
        }
        assert_eq!(
            browser.text("#pageinfo").await,
            format!("page {pages} of {pages}")
        );
        assert_eq!(
            browser.shown_codes().await.len(),
            changes - (pages - 1) * 200
        );
        assert!(!next.is_enabled().await.unwrap());
        let prev = browser.client.find(Locator::Css("#prev")).await.unwrap();
        for _ in 1..pages {
            prev.click().await.unwrap();
        }
        assert_eq!(browser.shown_codes().await, first_page);

        // A filter matching one change shows it, on one page, wherever it was.
        let last = html
            .rfind("<tbody class=\"c\"")
            .map(|at| &html[at..])
            .and_then(|rest| rest.split("<th scope=\"row\">").nth(1))
            .and_then(|rest| rest.split('<').next())
            .unwrap()
            .to_owned();
        browser.filter(&last).await;
        assert_eq!(browser.shown_codes().await, [last]);
        assert!(!browser
            .client
            .find(Locator::Css("#nav"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap());
        browser.close().await;
    });
}

/// A JSON request to the server; the status and the body.
async fn call(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(body).unwrap());
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[test]
fn a_held_sync_is_reviewed_and_approved_in_the_browser() {
    run(async {
        let Some(browser) =
            Browser::start("a_held_sync_is_reviewed_and_approved_in_the_browser").await
        else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let token = "school-token";
        let served = Served::start(
            &dir.path().join("data"),
            &["--token", &format!("school={token}")],
            &[],
        );
        let base = format!("http://{}", served.text_addr());
        let school = dir.path().join("school");
        let generated = sync_cli(&[
            "gen",
            "--contracts",
            "40",
            "--change-rate",
            "0",
            "--out",
            school.to_str().unwrap(),
        ]);
        assert_eq!(generated.code, 0, "{generated:?}");
        let first: Vec<Value> =
            serde_json::from_slice(&std::fs::read(school.join("previous.json")).unwrap()).unwrap();
        let sync = format!("{base}/api/sync/v2/contrats");
        let (status, body) = call(reqwest::Method::POST, &sync, token, Some(&json!(first))).await;
        assert_eq!(status, 200, "{body}");

        // A mass removal: 10 of 40 kept, the first one with another company name.
        let mut next = first[..10].to_vec();
        let old_name = next[0]["nomEntreprise"].as_str().unwrap().to_owned();
        next[0]["nomEntreprise"] = json!(format!("{old_name} SARL"));
        let (status, body) = call(reqwest::Method::POST, &sync, token, Some(&json!(next))).await;
        assert_eq!(status, 409, "{body}");
        let run_id = body["error"]["runId"].as_str().unwrap().to_owned();
        let review_url = body["error"]["reviewUrl"].as_str().unwrap().to_owned();

        browser
            .client
            .goto(&format!("{base}{review_url}"))
            .await
            .unwrap();
        let counts = [
            browser.count("same").await,
            browser.count("added").await,
            browser.count("updated").await,
            browser.count("removed").await,
        ];
        assert_eq!(counts, [9, 0, 1, 30]);
        assert_eq!(browser.shown_codes().await.len(), 31);
        let changed = browser.text("#changes table.f tbody tr:first-child").await;
        assert_eq!(changed, format!("nomEntreprise {old_name} {old_name} SARL"));
        assert_eq!(
            browser
                .text("#changes table.f tbody tr:first-child ins")
                .await,
            " SARL",
            "the difference marked, spaces kept"
        );
        browser.screenshot("review-page").await;

        // The filter, sent to the server with the key, keeps one removed contract.
        let code = first[20]["codeContrat"].as_str().unwrap().to_owned();
        // From the keyboard: the code typed in the box, then Enter.
        browser
            .filter(&format!(
                "{}{}",
                code.to_lowercase(),
                char::from(Key::Enter)
            ))
            .await;
        browser.wait_for_url_with("q=").await;
        assert_eq!(browser.shown_codes().await, [code.as_str()]);
        assert_eq!(browser.text("#matching").await, "1 matching change(s)");
        assert_eq!(
            browser.count("removed").await,
            30,
            "the counts are the run's"
        );

        // Approve: the page shows the result, the API sees the run applied.
        browser
            .client
            .find(Locator::Css("#approve"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let notice = browser
            .client
            .wait()
            .for_element(Locator::Css("#notice"))
            .await
            .unwrap();
        assert_eq!(
            notice.text().await.unwrap(),
            "Approved: the sync is applied (same 9, added 0, updated 1, removed 30)."
        );
        assert!(browser.client.find(Locator::Css("#approve")).await.is_err());
        let (status, body) = call(
            reqwest::Method::GET,
            &format!("{base}/api/sync/v1/runs/{run_id}"),
            token,
            None,
        )
        .await;
        assert_eq!(
            (status, &body["run"]["outcome"]),
            (200, &json!("approved")),
            "{body}"
        );
        let (_, body) = call(
            reqwest::Method::GET,
            &format!("{base}/api/sync/v1/contrats-get-all?limit=100"),
            token,
            None,
        )
        .await;
        assert_eq!(body["total"], 10, "{body}");
        let listed: Vec<&str> = body["contrats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["nomEntreprise"].as_str().unwrap())
            .collect();
        assert!(
            listed.contains(&format!("{old_name} SARL").as_str()),
            "{listed:?}"
        );
        browser.close().await;
        drop(served);
    });
}
