#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

//! The real `otcpay` binary, started the way an operator starts it: embedded SQLite
//! under the data dir by default, or PostgreSQL + Redis when the test run uses them
//! (`OTCPAY_TEST_DATABASE=postgres`, `OTCPAY_TEST_REDIS_URL`). Checks the acceptance of
//! the foundation: health, readiness, metrics, admin login, ledger check, the CLI
//! commands, and a clean exit on SIGTERM.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

const ADMIN_EMAIL: &str = "ops@otcpay.test";
const ADMIN_PASSWORD: &str = "ops-password-123";

struct Env {
    data_dir: PathBuf,
    vars: Vec<(&'static str, String)>,
    uses_postgres: bool,
    /// (admin URL, database) of the PostgreSQL database made for this test.
    postgres_database: Option<(String, String)>,
}

/// Each test's data dir and database go when it ends, so the suite cannot fill the disk.
impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some((admin_url, name)) = self.postgres_database.take() {
            // Inside the test's runtime: a thread with its own does the network call.
            let _ = std::thread::spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async {
                    if let Ok(admin) = Database::connect(&admin_url).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                        let _ = admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn environment(port: u16) -> Env {
    let data_dir = std::env::temp_dir().join(format!("otcpay-bin-{}", otcpay::ids::random_hex(6)));
    std::fs::create_dir_all(&data_dir).unwrap();
    let mut vars = vec![
        ("OTCPAY_LISTEN", format!("127.0.0.1:{port}")),
        ("OTCPAY_DATA_DIR", data_dir.display().to_string()),
        ("OTCPAY_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("OTCPAY_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("OTCPAY_ARGON2_MEMORY_KIB", "4096".to_owned()),
        ("OTCPAY_ARGON2_ITERATIONS", "1".to_owned()),
        ("OTCPAY_SHUTDOWN_TIMEOUT_SECONDS", "2".to_owned()),
        ("OTCPAY_HTTP_WORKERS", "2".to_owned()),
    ];
    let uses_postgres = matches!(
        std::env::var("OTCPAY_TEST_DATABASE").as_deref(),
        Ok("postgres")
    );
    let mut postgres_database = None;
    if uses_postgres {
        let admin_url = std::env::var("OTCPAY_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let admin = Database::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL required but unreachable at {admin_url}: {e}"));
        let name = format!("otcpay_bin_{}", otcpay::ids::random_hex(6));
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        vars.push(("DATABASE_URL", format!("{base}/{name}")));
        vars.push(("OTCPAY_MASTER_KEY", "ab".repeat(32)));
        postgres_database = Some((admin_url, name));
    }
    if let Ok(redis) = std::env::var("OTCPAY_TEST_REDIS_URL") {
        vars.push(("REDIS_URL", redis));
        vars.push((
            "OTCPAY_REDIS_PREFIX",
            format!("otcpay-bin-{}:", otcpay::ids::random_hex(6)),
        ));
    }
    Env {
        data_dir,
        vars,
        uses_postgres,
        postgres_database,
    }
}

fn command(env: &Env, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_otcpay"));
    cmd.args(args)
        .current_dir(&env.data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("SMTP_URL")
        .env("RUST_LOG", "info");
    for (key, value) in &env.vars {
        cmd.env(key, value);
    }
    cmd
}

fn run(env: &Env, args: &[&str]) -> Output {
    command(env, args).output().expect("otcpay runs")
}

async fn wait_healthy(client: &reqwest::Client, base: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await
            && response.status() == 200
        {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("otcpay exited early with {status}");
        }
        assert!(Instant::now() < deadline, "otcpay did not become healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "otcpay did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_file(path: &Path) {
    assert!(path.exists(), "{} should exist", path.display());
}

#[tokio::test]
async fn the_binary_serves_logs_in_checks_the_ledger_and_stops_cleanly() {
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    let port = free_port();
    let env = environment(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    let mut child = command(&env, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("otcpay starts");
    wait_healthy(&client, &base, &mut child).await;

    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert!(
        metrics
            .text()
            .await
            .unwrap()
            .contains("# TYPE http_requests_total counter")
    );

    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_credentials"
    );
    let check: Value = client
        .get(format!("{base}/api/v1/admin/ledger/check"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(check["ok"], true);

    let status = terminate(&mut child);
    assert!(status.success(), "SIGTERM is a clean stop, got {status}");
    let mut log = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        use std::io::Read;
        stderr.read_to_string(&mut log).ok();
    }
    assert!(log.contains("effective configuration"), "{log}");
    assert!(!log.contains(ADMIN_PASSWORD), "secrets never reach the log");

    if !env.uses_postgres {
        assert_file(&env.data_dir.join("otcpay.db"));
        assert_file(&env.data_dir.join("master.key"));
    }

    let migrate = run(&env, &["migrate"]);
    assert!(migrate.status.success());
    let check = run(&env, &["check-ledger"]);
    assert!(check.status.success());
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(report["ok"], true);

    let weak = run(
        &env,
        &[
            "admin",
            "create",
            "--email",
            "second@otcpay.test",
            "--password",
            "short",
        ],
    );
    assert!(!weak.status.success(), "a weak password is refused");
    let created = run(
        &env,
        &[
            "admin",
            "create",
            "--email",
            "second@otcpay.test",
            "--password",
            "second-password",
        ],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stdout).contains("second@otcpay.test"));
}

#[tokio::test]
async fn the_demo_seeds_a_merchant_whose_printed_key_creates_an_assigned_order() {
    use std::io::{BufRead, BufReader};
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    let port = free_port();
    let env = environment(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let mut child = command(&env, &["serve", "--demo"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("otcpay starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut key, mut merchant_login) = (None, None);
    while key.is_none() || merchant_login.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("demo output");
        if let Some(rest) = line.trim().strip_prefix("live API key") {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            key = Some((parts[0].to_owned(), parts[2].to_owned()));
        }
        if let Some(rest) = line.trim().strip_prefix("merchant login") {
            let parts: Vec<&str> = rest.split_whitespace().collect();
            merchant_login = Some((parts[0].to_owned(), parts[2].to_owned()));
        }
    }
    let (key_id, secret) = key.unwrap();
    let client = reqwest::Client::new();
    wait_healthy(&client, &base, &mut child).await;

    // The printed merchant login opens the dashboard's account.
    let (email, password) = merchant_login.unwrap();
    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["user"]["role"], "merchant");

    let body = json!({"merchant_order_id": "demo-1", "amount": "100.00"}).to_string();
    let ts = (otcpay::db::now_ms()).to_string();
    let message = format!("{ts}POST/api/v1/orders{body}");
    let signature = hex::encode(otcpay::crypto::hmac_sha256(
        secret.as_bytes(),
        message.as_bytes(),
    ));
    let response = client
        .post(format!("{base}/api/v1/orders"))
        .header("API-Key", &key_id)
        .header("Request-Time", &ts)
        .header("Signature-V1", signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "assigned");
    assert_eq!(order["rate"], "7.18", "the demo's best quote");
    assert_eq!(
        order["fiat_currency"], "CNY",
        "the demo merchant's default fiat"
    );
    assert!(terminate(&mut child).success());
}
