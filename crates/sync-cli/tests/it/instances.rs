//! Two `sync-cli serve` processes on one database, as a platform runs them behind a load
//! balancer: concurrent syncs of one tenant through both, what one writes read at once
//! through the other, `kill -9` of one in the middle of a sync, a tenant created with the CLI.
//!
//! Each test runs on a SQLite data directory the two share, and on a fresh PostgreSQL database
//! (created for the test, dropped after it) on the server of `SYNC_TEST_DATABASE_URL`. Without
//! that variable the PostgreSQL runs are skipped with a line saying how to run them; with
//! `CI=true` a database that is not set or cannot be reached fails the test. Only outcomes are
//! asserted, never timing.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{json, Value};

use crate::served::Served;

/// The token of tenant `school`, given to both instances with `--token`.
const TOKEN: &str = "school-token";
const SYNC: &str = "/api/sync/v2/contrats?allowMassRemoval=true";

/// How to run the PostgreSQL tests, printed when they are skipped.
const HOW_TO_RUN: &str = "set SYNC_TEST_DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:5432/DB \
    (a role allowed to create databases; each test makes its own) to run them (README, Testing)";

/// A database made for one test on the server of `SYNC_TEST_DATABASE_URL`, dropped after it.
struct FreshDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl FreshDatabase {
    fn create(admin_url: &str) -> Result<Self, String> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "campus_it_{}_{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = postgres::Client::connect(admin_url, postgres::NoTls).map_err(describe)?;
        // A database of an earlier run with the same process id, if it was left. (One
        // statement each: neither may run inside a transaction.)
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .map_err(describe)?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(describe)?;
        Ok(FreshDatabase {
            admin_url: admin_url.to_owned(),
            url: with_database(admin_url, &name),
            name,
        })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        // On a thread of its own: the blocking client may not run on an async worker.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let mut client = postgres::Client::connect(&admin_url, postgres::NoTls)?;
            client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        });
        if let Ok(Err(e)) = dropped.join() {
            eprintln!("test database {} not dropped: {}", self.name, describe(e));
        }
    }
}

/// A PostgreSQL error with its cause (the server's message, or why it cannot be reached).
fn describe(error: postgres::Error) -> String {
    match std::error::Error::source(&error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

/// `url` naming the database `name` instead of its own: the path of a URL, or a `dbname`
/// pair added to the key-value form (the last one counts).
fn with_database(url: &str, name: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return format!("{url} dbname={name}");
    };
    let start = scheme_end + 3;
    let query = url[start..].find('?').map_or(url.len(), |i| start + i);
    let path = url[start..query].find('/').map_or(query, |i| start + i);
    format!("{}/{name}{}", &url[..path], &url[query..])
}

/// The database two instances share.
enum Shared {
    Directory(tempfile::TempDir),
    Postgres(FreshDatabase),
}

impl Shared {
    /// The arguments naming it, for `serve` and `tenant create`.
    fn args(&self) -> Vec<&str> {
        match self {
            Shared::Directory(dir) => vec!["--data", dir.path().to_str().expect("UTF-8")],
            Shared::Postgres(db) => vec!["--database-url", &db.url, "--pool-size", "4"],
        }
    }

    /// The arguments of `tenant create` (no pool size).
    fn create_args(&self) -> Vec<&str> {
        let mut args = self.args();
        args.truncate(2);
        args
    }

    fn name(&self) -> &'static str {
        match self {
            Shared::Directory(_) => "SQLite",
            Shared::Postgres(_) => "PostgreSQL",
        }
    }
}

/// The databases to run a test on: a SQLite directory, and a fresh PostgreSQL database when
/// `SYNC_TEST_DATABASE_URL` is set (required with `CI=true`).
fn shared_databases() -> Vec<Shared> {
    let mut shared = vec![Shared::Directory(tempfile::tempdir().unwrap())];
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    match std::env::var("SYNC_TEST_DATABASE_URL") {
        Err(_) if ci => {
            panic!("CI=true and SYNC_TEST_DATABASE_URL is not set: {HOW_TO_RUN}")
        }
        Err(_) => eprintln!("PostgreSQL multi-instance tests skipped: {HOW_TO_RUN}"),
        Ok(url) => match FreshDatabase::create(&url) {
            Ok(database) => shared.push(Shared::Postgres(database)),
            Err(e) if ci => panic!(
                "CI=true and no test database can be created on SYNC_TEST_DATABASE_URL={}: {e}",
                sync_store::redact_password(&url)
            ),
            Err(e) => eprintln!(
                "PostgreSQL multi-instance tests skipped: SYNC_TEST_DATABASE_URL={} cannot be \
                 reached ({e}); {HOW_TO_RUN}",
                sync_store::redact_password(&url)
            ),
        },
    }
    shared
}

/// Runs `test` on each shared database (SQLite, then PostgreSQL if there is one).
fn on_each_database<F, Fut>(test: F)
where
    F: Fn(Shared) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for shared in shared_databases() {
        eprintln!("on {}", shared.name());
        runtime.block_on(test(shared));
    }
}

/// Two instances on one database, and an HTTP client of both ([`Api`], by deref).
struct Instances {
    servers: [Served; 2],
    api: Api,
    shared: Shared,
}

impl std::ops::Deref for Instances {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// An HTTP client of the two instances, cheap to clone into concurrent tasks.
#[derive(Clone)]
struct Api {
    addrs: [String; 2],
    client: reqwest::Client,
}

impl Instances {
    /// Starts two instances on `shared`, each registering tenant `school` with `TOKEN`.
    fn start(shared: Shared) -> Instances {
        let token = format!("school={TOKEN}");
        let start = || {
            let mut args = shared.args();
            args.extend(["--token", &token]);
            let served = Served::start_on(&args, &[], &[]);
            let addr = served.text_addr();
            (served, addr)
        };
        let (first, first_addr) = start();
        let (second, second_addr) = start();
        Instances {
            servers: [first, second],
            api: Api {
                addrs: [first_addr, second_addr],
                client: reqwest::Client::builder()
                    .timeout(Duration::from_secs(300))
                    .build()
                    .unwrap(),
            },
            shared,
        }
    }

    /// Starts instance `i` again (after a kill).
    fn restart(&mut self, i: usize) {
        let token = format!("school={TOKEN}");
        let mut args = self.shared.args();
        args.extend(["--token", &token]);
        self.servers[i] = Served::start_on(&args, &[], &[]);
        self.api.addrs[i] = self.servers[i].text_addr();
    }
}

impl Api {
    /// Sends a request to instance `i` with `token`; the status and the body as JSON.
    async fn call(
        &self,
        i: usize,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Vec<u8>>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("http://{}{path}", self.addrs[i]))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("an answer");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("a whole body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, i: usize, path: &str) -> (u16, Value) {
        self.call(i, reqwest::Method::GET, path, TOKEN, None).await
    }

    async fn post(&self, i: usize, path: &str, body: &Value) -> (u16, Value) {
        let body = serde_json::to_vec(body).unwrap();
        self.call(i, reqwest::Method::POST, path, TOKEN, Some(body))
            .await
    }

    /// Every contract `listing` lists through instance `i` (pages of 10 000), by code.
    async fn listed(&self, i: usize, listing: &str) -> BTreeMap<String, Value> {
        let mut all = BTreeMap::new();
        for page in 1.. {
            let path = format!("/api/sync/v1/{listing}?limit=10000&page={page}");
            let (status, body) = self.get(i, &path).await;
            assert_eq!(status, 200, "{path} through {i}: {body}");
            let contracts = body["contrats"].as_array().unwrap();
            all.extend(contracts.iter().map(|c| (code(c), c.clone())));
            if contracts.len() < 10_000 {
                assert_eq!(body["total"], all.len(), "{path} through {i}");
                return all;
            }
        }
        unreachable!()
    }

    /// The transmitted set through instance `i`.
    async fn transmitted(&self, i: usize) -> BTreeMap<String, Value> {
        self.listed(i, "contrats-get-all").await
    }
}

fn code(contract: &Value) -> String {
    contract["codeContrat"].as_str().unwrap().to_owned()
}

/// `n` generated contracts (`seed`): the previous export and the next one, `change_rate`
/// of it changed, as JSON values.
fn exports(n: usize, seed: u64, change_rate: f64) -> (Vec<Value>, Vec<Value>) {
    let generated = sync_core::gen::generate(&sync_core::gen::Options {
        contracts: n,
        seed,
        change_rate,
    });
    let values = |contracts: &[sync_core::Contract<'_>]| {
        contracts
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect::<Vec<_>>()
    };
    (values(&generated.previous), values(&generated.current))
}

/// A set by code.
fn by_code(set: &[Value]) -> BTreeMap<String, Value> {
    set.iter().map(|c| (code(c), c.clone())).collect()
}

/// Concurrent full syncs of one tenant through both instances: each answers 200 or 409
/// `conflict`, both list the same set, and it is one of the sets posted, answered 200.
#[test]
fn concurrent_full_syncs_end_in_one_posted_set() {
    on_each_database(|shared| async move {
        let instances = Instances::start(shared);
        let (all, _) = exports(2000, 5, 0.0);
        let (status, body) = instances.post(0, SYNC, &json!(all)).await;
        assert_eq!(status, 200, "{body}");
        // Sets of every contract but one, posted all at once, alternately through each.
        let sets: Vec<Vec<Value>> = (0..8)
            .map(|i| {
                let mut set = all.clone();
                set.remove(i);
                set
            })
            .collect();
        let tasks: Vec<_> = sets
            .iter()
            .enumerate()
            .map(|(i, set)| {
                let api = instances.api.clone();
                let body = json!(set);
                tokio::spawn(async move { api.post(i % 2, SYNC, &body).await })
            })
            .collect();
        let mut answered = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            let (status, body) = task.await.unwrap();
            match status {
                200 => answered.push(i),
                409 => assert_eq!(body["error"]["code"], "conflict", "sync {i}: {body}"),
                other => panic!("sync {i}: {other} {body}"),
            }
        }
        assert!(!answered.is_empty(), "no sync applied");
        let end = instances.transmitted(0).await;
        assert_eq!(end, instances.transmitted(1).await, "both list one set");
        let posted = sets.iter().position(|set| by_code(set) == end);
        assert!(
            posted.is_some_and(|i| answered.contains(&i)),
            "the end set ({} contracts) is no set posted and applied",
            end.len()
        );
    });
}

/// Whatever one instance writes, the other reads at the next request: contracts (each
/// instance having its own copy of the active set in memory before), session models and the
/// integrated listing, absences, cycle data, member statuses; `/healthz` answers on both.
#[test]
fn what_one_instance_writes_the_other_reads_at_once() {
    on_each_database(|shared| async move {
        let instances = Instances::start(shared);
        for i in 0..2 {
            let (status, body) = instances.get(i, "/healthz").await;
            assert_eq!(
                (status, body),
                (200, json!({"status": "ok"})),
                "instance {i}"
            );
        }
        let (previous, current) = exports(3000, 9, 0.3);
        let sets = [&previous, &current, &previous, &current];
        for (round, set) in sets.into_iter().enumerate() {
            // Both instances hold the stored set in memory, then one of them syncs.
            let (one, other) = (round % 2, (round + 1) % 2);
            let before = instances.transmitted(one).await;
            assert_eq!(before, instances.transmitted(other).await, "round {round}");
            let (status, body) = instances.post(one, SYNC, &json!(set)).await;
            assert_eq!(status, 200, "round {round}: {body}");
            assert_eq!(
                instances.transmitted(other).await,
                by_code(set),
                "round {round}: the sync through {one} is listed by {other}"
            );
        }

        // Session models set through one: the integrated listing of the other follows.
        let first = &current[0];
        let model =
            json!([{"codeFormation": first["codeFormation"], "codeAnnee": first["codeAnnee"]}]);
        let integrated = instances.listed(1, "contrats").await;
        assert!(integrated.is_empty(), "no model, nothing integrated");
        let body = serde_json::to_vec(&model).unwrap();
        let (status, answer) = instances
            .call(
                0,
                reqwest::Method::PUT,
                "/api/sync/v1/session-models",
                TOKEN,
                Some(body),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        let (status, models) = instances.get(1, "/api/sync/v1/session-models").await;
        assert_eq!((status, models), (200, model));
        let expected: Vec<String> = current
            .iter()
            .filter(|c| {
                c["codeFormation"] == first["codeFormation"] && c["codeAnnee"] == first["codeAnnee"]
            })
            .map(code)
            .collect();
        let integrated = instances.listed(1, "contrats").await;
        assert_eq!(integrated.keys().cloned().collect::<Vec<_>>(), {
            let mut expected = expected.clone();
            expected.sort();
            expected
        });

        // Absences replaced through one, read through the other.
        let email = first["emailApprenant"].as_str().unwrap();
        let absences = json!({"email": email, "data": [{"dateDebut": "02/09/2024-08:30",
            "dateFin": "02/09/2024-12:30", "type": "absence", "isJustifie": true, "motif": "bus"}]});
        let (status, answer) = instances
            .post(1, "/api/sync/v1/absences-for-student", &absences)
            .await;
        assert_eq!(status, 200, "{answer}");
        let path = format!("/api/sync/v1/absences-for-student?email={email}");
        let (status, read) = instances.get(0, &path).await;
        assert_eq!(status, 200, "{read}");
        assert_eq!(answer["absences"], 1, "{answer}");
        assert_eq!(read["absences"].as_array().map(Vec::len), Some(1), "{read}");
        assert_eq!(read["absences"][0]["motif"], "bus", "{read}");

        // Cycle data imported through one, read and changed through the other.
        let import: Value =
            serde_json::from_slice(&std::fs::read(crate::data_path("cycles.json")).unwrap())
                .unwrap();
        let (status, answer) = instances.post(0, "/lmsapi/admin/import", &import).await;
        assert_eq!(status, 200, "{answer}");
        let (status, cycles) = instances.post(1, "/lmsapi/cycle/getlist", &json!({})).await;
        assert_eq!(status, 200, "{cycles}");
        assert_eq!(
            cycles.as_array().map(Vec::len),
            import["cycles"].as_array().map(Vec::len),
            "{cycles}"
        );
        let member = import["members"][0]["userId"].clone();
        for (round, (status, start)) in [
            ("Membre", "2024-01-01T00:00:00"),
            ("Suspendu", "2024-06-01T00:00:00"),
        ]
        .into_iter()
        .enumerate()
        {
            let change =
                json!({"userId": member, "status": {"status": status, "startDate": start}});
            let (code, answer) = instances
                .post(
                    round % 2,
                    "/lmsapi/cycle/changecurrentmemberstatus",
                    &change,
                )
                .await;
            assert_eq!(code, 200, "{answer}");
            let (code, statuses) = instances
                .post(
                    (round + 1) % 2,
                    "/lmsapi/cycle/getmemberstatuses",
                    &json!({"userId": member}),
                )
                .await;
            assert_eq!(code, 200, "{statuses}");
            let last = statuses["statuses"]
                .as_array()
                .and_then(|s| s.last())
                .cloned();
            assert_eq!(
                last.map(|s| s["status"].clone()),
                Some(json!(status)),
                "round {round}: {statuses}"
            );
        }
    });
}

/// Sends a full sync of `body` to `addr` over a raw connection and returns once the whole
/// request is written (the server then parses, checks and writes it), leaving the answer
/// unread.
fn send_sync(addr: &str, body: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connects");
    let head = format!(
        "POST {SYNC} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    stream
}

/// `kill -9` of one instance while it syncs 20 000 contracts, at several moments: the other
/// keeps answering, and the stored set is the old one or the new one, never a mixture; the
/// next sync through the other applies.
#[test]
fn kill_9_in_the_middle_of_a_sync_leaves_the_old_set_or_the_new_one() {
    on_each_database(|shared| async move {
        let mut instances = Instances::start(shared);
        let (old, new) = exports(20_000, 3, 0.2);
        let (old, new) = (by_code(&old), by_code(&new));
        let (status, body) = instances
            .post(1, SYNC, &json!(old.values().collect::<Vec<_>>()))
            .await;
        assert_eq!(status, 200, "{body}");
        let mut stored = old.clone();
        let mut seen = Vec::new();
        for delay in [0, 100, 400, 1500, 5000] {
            let next = if stored == old { &new } else { &old };
            let body = serde_json::to_vec(&next.values().collect::<Vec<_>>()).unwrap();
            let stream = send_sync(&instances.addrs[0], &body);
            tokio::time::sleep(Duration::from_millis(delay)).await;
            instances.servers[0].kill();
            drop(stream);

            let (status, health) = instances.get(1, "/healthz").await;
            assert_eq!(status, 200, "after the kill at {delay} ms: {health}");
            let listed = instances.transmitted(1).await;
            let outcome = if listed == stored {
                "old"
            } else if &listed == next {
                "new"
            } else {
                panic!(
                    "after the kill at {delay} ms: {} contracts listed, neither the old set nor the new one",
                    listed.len()
                )
            };
            seen.push(format!("{delay} ms: {outcome}"));
            stored = listed;
            instances.restart(0);
        }
        eprintln!("kill -9 outcomes: {seen:?}");
        // Both answer syncs again, and read each other's.
        let set: Vec<&Value> = old.values().collect();
        let (status, body) = instances.post(1, SYNC, &json!(set)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(instances.transmitted(0).await, old);
    });
}

/// A tenant created with `sync-cli tenant create` on the database while both instances run:
/// its token is valid on both at once, and what it syncs through one is listed by the other.
/// Then SIGTERM stops one gracefully (exit 0) while the other answers.
#[test]
fn a_tenant_created_with_the_cli_works_through_both() {
    on_each_database(|shared| async move {
        let instances = Instances::start(shared);
        let mut args = vec!["tenant", "create", "college"];
        args.extend(instances.shared.create_args());
        let created = crate::sync_cli(&args);
        assert_eq!(created.code, 0, "{}", created.stderr);
        assert!(!created.stderr.contains("password"), "{}", created.stderr);
        let token = created.stdout.trim().to_owned();
        for i in 0..2 {
            let (status, body) = instances
                .call(i, reqwest::Method::GET, "/api/sync/v1/test", &token, None)
                .await;
            assert_eq!(status, 200, "instance {i}: {body}");
            assert_eq!(body, json!({"value": "token valid", "name": "college"}));
        }
        let (set, _) = exports(50, 21, 0.0);
        let (status, body) = instances
            .call(
                0,
                reqwest::Method::POST,
                SYNC,
                &token,
                Some(serde_json::to_vec(&set).unwrap()),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, listed) = instances
            .call(
                1,
                reqwest::Method::GET,
                "/api/sync/v1/contrats-get-all",
                &token,
                None,
            )
            .await;
        assert_eq!(status, 200, "{listed}");
        assert_eq!(listed["total"], 50, "{listed}");
        // The other tenant sees none of it.
        assert!(instances.transmitted(1).await.is_empty());

        // SIGTERM stops an instance gracefully (exit 0), its store closed.
        let mut instances = instances;
        instances.servers[0].signal("TERM");
        assert_eq!(instances.servers[0].exit_code(), Some(0));
        let (status, _) = instances.get(1, "/healthz").await;
        assert_eq!(status, 200);
    });
}

/// A store that cannot be opened stops `serve` before it listens, and `tenant create`, with
/// exit code 2 and a message naming it (a URL's password hidden).
#[test]
fn a_store_that_cannot_be_opened_stops_the_start_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let file = file.to_str().unwrap();
    let cases = [
        (vec!["--data", file], "cannot open the SQLite store at"),
        (
            vec![
                "--database-url",
                "postgres://campus:s3cret@127.0.0.1:1/campus",
            ],
            "cannot open the PostgreSQL store at postgres://campus@127.0.0.1:1/campus",
        ),
        (
            vec![
                "--database-url",
                "postgres://campus:s3cret@127.0.0.1:notaport/campus",
            ],
            "cannot open the PostgreSQL store at postgres://campus@127.0.0.1:notaport/campus",
        ),
    ];
    for (store, message) in cases {
        let mut serve = vec!["serve", "--addr", "127.0.0.1:0"];
        serve.extend(&store);
        let mut create = vec!["tenant", "create", "school"];
        create.extend(&store);
        for args in [serve, create] {
            let run = crate::sync_cli(&args);
            let case = format!("{args:?}: {run:?}");
            assert_eq!(run.code, 2, "{case}");
            assert!(run.stderr.contains(message), "{case}");
            assert!(!run.stderr.contains("s3cret"), "{case}");
            assert!(!run.stderr.contains("listening"), "{case}");
            assert_eq!(run.stdout, "", "{case}");
        }
    }
}

#[test]
fn test_database_urls() {
    let check = |url: &str, expected: &str| assert_eq!(with_database(url, "t1"), expected);
    check("postgres://u:p@h:5432/db", "postgres://u:p@h:5432/t1");
    check(
        "postgres://u:p@h/db?sslmode=disable",
        "postgres://u:p@h/t1?sslmode=disable",
    );
    check("postgres://h", "postgres://h/t1");
    check("postgres://h?user=u", "postgres://h/t1?user=u");
    check(
        "host=h user=u dbname=db",
        "host=h user=u dbname=db dbname=t1",
    );
}
