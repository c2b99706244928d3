//! Load generator for order creation: behaves like merchants calling
//! `POST /api/v1/orders` (API.md "Merchant authentication", "Orders").
//!
//! Every request is signed as API.md says (`API-Key`, `Request-Time`, `Signature-V1` =
//! hex HMAC-SHA256(secret, Request-Time + METHOD + path_and_query + body)) and carries a
//! unique `merchant_order_id`. An order counts as successful only when the answer is
//! `201` with `"status": "assigned"`: the server commits the order and its ledger
//! reservation before it answers, so such an order is assigned and persisted.
//!
//! Two modes:
//! - `--spawn sqlite|postgres` (default sqlite): starts the server in this process, as the
//!   black-box tests do, on a fresh database (PostgreSQL: a new `otcpay_test_…` database
//!   on `OTCPAY_TEST_POSTGRES_URL`, Redis at `OTCPAY_TEST_REDIS_URL` or
//!   `redis://127.0.0.1:6379`), seeds `--acceptors` online acceptors with liquidity and a
//!   merchant, warms up, then measures.
//! - `--url URL --key-id K --secret S`: drives a server that is already running (no
//!   seeding; its acceptors must be able to take the orders).
//!
//! The run ends after `--orders` orders or `--duration` seconds (whichever is given;
//! `--duration` wins), at `--concurrency` requests in flight, each worker on a keep-alive
//! HTTP/1.1 connection of its own (plain hyper: a pooling client's bookkeeping would take
//! CPU from the server on the same cores).
//! Output: a progress bar on stderr (not with `--quiet`), a summary on stderr, and one
//! JSON line on stdout. Latencies are those of the successful (assigned) orders, from
//! signing to the last byte of the response, in an HDR histogram.
//!
//! ```text
//! cargo build --release -p otcpay-tests --bin loadgen
//! target/release/loadgen --spawn postgres --orders 20000 --concurrency 64
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use clap::{Parser, ValueEnum};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reqwest::{Method, StatusCode};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use serde::Deserialize;
use serde_json::{Value, json};

use otcpay::config::Secret;
use otcpay::startup::Application;
use otcpay_tests::app::{TestApp, test_settings};
use otcpay_tests::db::{Backend, TestDb, postgres_admin_url};
use otcpay_tests::merchant::create_merchant;

// The server's allocator (see `backend/src/main.rs`), so the spawned server runs as
// the real binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The highest `max_concurrent_orders` the admin API accepts. Orders stay `assigned`
/// during the run, so the acceptors' total capacity bounds how many a run may create.
const ACCEPTOR_MAX_CONCURRENT_ORDERS: u64 = 1000;
const ORDERS_PATH: &str = "/api/v1/orders";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
}

impl BackendArg {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Drives POST /api/v1/orders like signing merchants and reports throughput and latency."
)]
struct Args {
    /// Start the server in this process on a fresh database of this kind (the default mode).
    #[arg(long, value_enum, default_value = "sqlite", conflicts_with = "url")]
    spawn: BackendArg,
    /// Drive an already running server instead (base URL, e.g. http://127.0.0.1:8080).
    #[arg(long, requires_all = ["key_id", "secret"])]
    url: Option<String>,
    /// Live API key id (`mk_live_…`) for --url.
    #[arg(long)]
    key_id: Option<String>,
    /// The key's HMAC secret for --url.
    #[arg(long)]
    secret: Option<String>,
    /// With --url: the database the server runs on, only to label the JSON line.
    #[arg(long, value_enum, default_value = "sqlite")]
    backend: BackendArg,
    /// Online acceptors to seed (--spawn).
    #[arg(long, default_value_t = 50)]
    acceptors: u64,
    /// Orders to create in the measured run.
    #[arg(long, default_value_t = 20_000)]
    orders: u64,
    /// Measure for this many seconds instead of a number of orders.
    #[arg(long)]
    duration: Option<f64>,
    /// Requests in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: u64,
    /// Orders sent before measuring (not counted).
    #[arg(long, default_value_t = 200)]
    warmup: u64,
    /// Fiat of the orders (the seeded acceptors quote it).
    #[arg(long, default_value = "CNY")]
    fiat: String,
    /// Order amounts are uniform in [min, max] USDT, with 2 decimals.
    #[arg(long, default_value_t = 10.0)]
    amount_min: f64,
    #[arg(long, default_value_t = 1000.0)]
    amount_max: f64,
    /// Seeded quotes are 7.20 ± up to this much fiat per USDT, in steps of 0.01 (0 puts
    /// every acceptor within the round-robin tolerance; the default spreads them, so
    /// the best-rate acceptors take the orders, as in a real market).
    #[arg(long, default_value_t = 0.10)]
    rate_spread: f64,
    /// Give the merchant a webhook endpoint: a receiver in this process on 127.0.0.1
    /// that answers 200 (without it, every order's webhook is logged as "no endpoint").
    #[arg(long)]
    webhook: bool,
    /// HTTP worker threads of the spawned server.
    #[arg(long, default_value_t = 2)]
    http_workers: usize,
    /// Database pool size of the spawned server (PostgreSQL; SQLite always uses one).
    #[arg(long, default_value_t = 32)]
    db_connections: u32,
    /// Per-minute rate limit written on the merchant (--spawn).
    #[arg(long, default_value_t = 10_000_000)]
    rate_limit: i32,
    /// `NAME=VALUE`: `ALTER DATABASE … SET NAME = VALUE` on the spawned PostgreSQL
    /// database before the server connects (e.g. `synchronous_commit=off`,
    /// `log_min_duration_statement=0`). Repeatable; for experiments.
    #[arg(long = "pg-set", value_name = "NAME=VALUE")]
    pg_set: Vec<String>,
    /// Keep the spawned PostgreSQL database (for EXPLAIN and the like) instead of dropping it.
    #[arg(long)]
    keep_db: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// What a signed request needs.
#[derive(Clone)]
struct Signer {
    key_id: String,
    secret: String,
}

impl Signer {
    /// `Signature-V1`: lowercase hex HMAC-SHA256 of `time + METHOD + path + body`.
    fn sign(&self, time: &str, method: &str, path: &str, body: &[u8]) -> String {
        use hmac::{KeyInit, Mac};
        let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(self.secret.as_bytes()) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(time.as_bytes());
        mac.update(method.as_bytes());
        mac.update(path.as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The server the run talks to.
struct Target {
    base: String,
    signer: Signer,
    backend: BackendArg,
    acceptors: u64,
    /// How many orders the seeded acceptors can hold open at once (spawn mode).
    capacity: Option<u64>,
    /// Kept alive for the whole run in spawn mode.
    app: Option<TestApp>,
    merchant_id: Option<String>,
}

#[derive(Deserialize)]
struct OrderAnswer {
    status: Option<String>,
}

/// What the workers share.
struct Shared {
    /// `host:port` of the server, and its `Host` header.
    authority: String,
    signer: Signer,
    fiat: String,
    run_id: String,
    amount_min_cents: u64,
    amount_max_cents: u64,
    next: AtomicU64,
    limit: u64,
    deadline: Option<Instant>,
    assigned: AtomicU64,
    errors: AtomicU64,
    error_kinds: Mutex<BTreeMap<String, u64>>,
    error_samples: Mutex<Vec<String>>,
    progress: ProgressBar,
}

#[derive(Default)]
struct Outcome {
    sent: u64,
    histogram: Option<Histogram<u64>>,
}

fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    // Microseconds, 1 µs to 10 min, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).map_err(|e| anyhow!("histogram: {e}"))
}

impl Shared {
    fn record_error(&self, kind: String, sample: impl FnOnce() -> String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut kinds) = self.error_kinds.lock() {
            *kinds.entry(kind).or_default() += 1;
        }
        if let Ok(mut samples) = self.error_samples.lock()
            && samples.len() < 5
        {
            samples.push(sample());
        }
    }

    /// Sends order `index` over `conn` (opened first when there is none; dropped after a
    /// transport error); returns its latency when it came back `201 assigned`.
    async fn one_order(&self, conn: &mut Option<Connection>, index: u64) -> Option<Duration> {
        let cents = if self.amount_max_cents > self.amount_min_cents {
            rand::random_range(self.amount_min_cents..=self.amount_max_cents)
        } else {
            self.amount_min_cents
        };
        let body = json!({
            "merchant_order_id": format!("lg-{}-{index}", self.run_id),
            "amount": format!("{}.{:02}", cents / 100, cents % 100),
            "fiat_currency": self.fiat,
            "payment_method": "bank_transfer",
        });
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let started = Instant::now();
        // The current time, not a strictly increasing one: every body is different, so
        // no two signatures are equal, and a counter would run ahead of the clock at
        // more than 1 000 requests/s (the server refuses times > 1 s in the future).
        let time = chrono::Utc::now().timestamp_millis().to_string();
        let signature = self
            .signer
            .sign(&time, Method::POST.as_str(), ORDERS_PATH, &body);
        let request = hyper::Request::post(ORDERS_PATH)
            .header(hyper::header::HOST, &self.authority)
            .header("API-Key", &self.signer.key_id)
            .header("Request-Time", &time)
            .header("Signature-V1", signature)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)));
        let request = match request {
            Ok(request) => request,
            Err(err) => {
                self.record_error("request".to_owned(), || format!("building it: {err}"));
                return None;
            }
        };
        let answer =
            tokio::time::timeout(REQUEST_TIMEOUT, exchange(conn, &self.authority, request)).await;
        let (status, bytes) = match answer {
            Ok(Ok(answer)) => answer,
            Ok(Err(err)) => {
                *conn = None;
                self.record_error("transport".to_owned(), || format!("transport: {err:#}"));
                return None;
            }
            Err(_) => {
                *conn = None;
                self.record_error("timeout".to_owned(), || {
                    format!("no answer within {REQUEST_TIMEOUT:?}")
                });
                return None;
            }
        };
        let elapsed = started.elapsed();
        let answer_status = serde_json::from_slice::<OrderAnswer>(&bytes)
            .ok()
            .and_then(|a| a.status);
        if status == StatusCode::CREATED && answer_status.as_deref() == Some("assigned") {
            self.assigned.fetch_add(1, Ordering::Relaxed);
            return Some(elapsed);
        }
        let kind = if status == StatusCode::CREATED {
            format!("201 {}", answer_status.as_deref().unwrap_or("?"))
        } else {
            let code = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{} {code}", status.as_u16())
        };
        self.record_error(kind, || {
            let text = String::from_utf8_lossy(&bytes);
            format!("{status}: {}", text.chars().take(300).collect::<String>())
        });
        None
    }

    async fn worker(self: Arc<Self>) -> anyhow::Result<Outcome> {
        let mut histogram = new_histogram()?;
        let mut sent = 0;
        let mut conn = None;
        loop {
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            if index >= self.limit {
                break;
            }
            sent += 1;
            if let Some(latency) = self.one_order(&mut conn, index).await {
                let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                histogram.saturating_record(micros.max(1));
            }
            self.progress.inc(1);
        }
        Ok(Outcome {
            sent,
            histogram: Some(histogram),
        })
    }
}

/// A worker's keep-alive HTTP/1.1 connection: one request at a time, no pool.
type Connection = SendRequest<Full<Bytes>>;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends `request` over `conn`, first opening it to `authority` if needed, and reads the
/// whole answer.
async fn exchange(
    conn: &mut Option<Connection>,
    authority: &str,
    request: hyper::Request<Full<Bytes>>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let sender = match conn {
        Some(sender) => sender,
        None => conn.insert(connect(authority).await?),
    };
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, bytes))
}

async fn connect(authority: &str) -> anyhow::Result<Connection> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .with_context(|| format!("connecting to {authority}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // Drives the connection until the sender is dropped or the server closes it.
    tokio::spawn(connection);
    Ok(sender)
}

struct RunResult {
    sent: u64,
    assigned: u64,
    errors: u64,
    seconds: f64,
    histogram: Histogram<u64>,
    error_kinds: BTreeMap<String, u64>,
    error_samples: Vec<String>,
}

struct RunSpec<'a> {
    label: &'a str,
    first_index: u64,
    count: u64,
    duration: Option<Duration>,
    concurrency: u64,
    quiet: bool,
}

fn progress_bar(spec: &RunSpec<'_>) -> ProgressBar {
    if spec.quiet {
        return ProgressBar::hidden();
    }
    let bar = if spec.duration.is_some() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {prefix} [{elapsed_precise}] {pos} orders ({per_sec}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    } else {
        let bar = ProgressBar::new(spec.count);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    };
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
    bar.set_prefix(spec.label.to_owned());
    bar
}

async fn run(
    authority: &str,
    args: &Args,
    target: &Target,
    run_id: &str,
    spec: RunSpec<'_>,
) -> anyhow::Result<RunResult> {
    let progress = progress_bar(&spec);
    let cents = |usdt: f64| (usdt * 100.0).round().max(1.0) as u64;
    let started = Instant::now();
    let shared = Arc::new(Shared {
        authority: authority.to_owned(),
        signer: target.signer.clone(),
        fiat: args.fiat.clone(),
        run_id: run_id.to_owned(),
        amount_min_cents: cents(args.amount_min),
        amount_max_cents: cents(args.amount_max.max(args.amount_min)),
        next: AtomicU64::new(spec.first_index),
        limit: spec.first_index.saturating_add(spec.count),
        deadline: spec.duration.map(|d| started + d),
        assigned: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        error_kinds: Mutex::new(BTreeMap::new()),
        error_samples: Mutex::new(Vec::new()),
        progress: progress.clone(),
    });
    // Errors on the bar, a few times a second.
    let ticker = {
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let errors = shared.errors.load(Ordering::Relaxed);
                shared.progress.set_message(format!("errors {errors}"));
            }
        })
    };
    let workers: Vec<_> = (0..spec.concurrency.max(1))
        .map(|_| tokio::spawn(shared.clone().worker()))
        .collect();
    let mut histogram = new_histogram()?;
    let mut sent = 0;
    for worker in workers {
        let outcome = worker.await.context("a load worker panicked")??;
        sent += outcome.sent;
        if let Some(h) = outcome.histogram {
            histogram
                .add(&h)
                .map_err(|e| anyhow!("merging histograms: {e}"))?;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    ticker.abort();
    progress.finish_and_clear();
    let error_kinds = shared
        .error_kinds
        .lock()
        .map(|k| k.clone())
        .unwrap_or_default();
    let error_samples = shared
        .error_samples
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    Ok(RunResult {
        sent,
        assigned: shared.assigned.load(Ordering::Relaxed),
        errors: shared.errors.load(Ordering::Relaxed),
        seconds,
        histogram,
        error_kinds,
        error_samples,
    })
}

// ---------------------------------------------------------------------------------------
// Spawn mode: a server in this process, seeded through its APIs.

async fn spawn_target(args: &Args, deliveries: Arc<AtomicU64>) -> anyhow::Result<Target> {
    if std::env::var("TEST_LOG").is_ok() {
        otcpay::telemetry::init(otcpay::config::LogFormat::Text);
    }
    let backend = args.spawn;
    let db = fresh_database(backend, &args.pg_set).await?;
    let mut settings = test_settings(&db);
    settings.redis_url = match backend {
        BackendArg::Sqlite => None,
        BackendArg::Postgres => Some(Secret::new(
            std::env::var("OTCPAY_TEST_REDIS_URL")
                .ok()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned()),
        )),
    };
    settings.redis_prefix = format!("otcpay-loadgen-{}:", otcpay::ids::random_hex(6));
    settings.http_workers = args.http_workers;
    settings.database_max_connections = args.db_connections;
    let app = Application::build(settings)
        .await
        .context("the server failed to start")?;
    let port = app.port();
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    let app = TestApp::adopt(port, db, state);

    let seeding = Instant::now();
    let webhook_url = if args.webhook {
        Some(start_webhook_receiver(deliveries.clone())?)
    } else {
        None
    };
    // The admin API takes at most 100 000/min; the rest is written directly, as an
    // operator would, so that the limiter never throttles the measurement.
    let shop = create_merchant(
        &app,
        match &webhook_url {
            Some(url) => json!({"name": "Load Shop", "default_fiat": args.fiat,
                                "rate_limit_per_minute": 100_000, "webhook_url": url}),
            None => json!({"name": "Load Shop", "default_fiat": args.fiat,
                           "rate_limit_per_minute": 100_000}),
        },
    )
    .await;
    let merchant_id = shop.id().to_owned();
    let typed =
        otcpay::ids::MerchantId::parse(&merchant_id).ok_or_else(|| anyhow!("not a merchant id"))?;
    let row = otcpay::merchants::merchant::Entity::find_by_id(typed)
        .one(&app.db.db)
        .await?
        .ok_or_else(|| anyhow!("the new merchant is not in the database"))?;
    let mut active: otcpay::merchants::merchant::ActiveModel = row.into();
    active.rate_limit_per_minute = Set(args.rate_limit);
    active.update(&app.db.db).await?;

    let admin = app.admin_token().await;
    for n in 0..args.acceptors {
        seed_acceptor(&app, &admin, n, &args.fiat, args.rate_spread).await?;
    }
    eprintln!(
        "seeded 1 merchant and {} online acceptors in {:.1} s (backend {}, http_workers {}, db pool {})",
        args.acceptors,
        seeding.elapsed().as_secs_f64(),
        backend.as_str(),
        args.http_workers,
        if backend == BackendArg::Sqlite {
            1
        } else {
            args.db_connections
        },
    );
    Ok(Target {
        base: app.address.clone(),
        signer: Signer {
            key_id: shop.live.key_id.clone(),
            secret: shop.live.secret.clone(),
        },
        backend,
        acceptors: args.acceptors,
        capacity: Some(
            args.acceptors
                .saturating_mul(ACCEPTOR_MAX_CONCURRENT_ORDERS),
        ),
        app: Some(app),
        merchant_id: Some(merchant_id),
    })
}

/// A webhook endpoint on 127.0.0.1 that counts deliveries and answers 200.
fn start_webhook_receiver(deliveries: Arc<AtomicU64>) -> anyhow::Result<String> {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        let deliveries = deliveries.clone();
        App::new().default_service(web::to(move |_body: web::Bytes| {
            let deliveries = deliveries.clone();
            async move {
                deliveries.fetch_add(1, Ordering::Relaxed);
                HttpResponse::Ok().finish()
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    tokio::spawn(server);
    Ok(format!("http://127.0.0.1:{port}/webhooks"))
}

/// A fresh, migrated database of the given kind (what [`TestDb::new`] does, without
/// going through `OTCPAY_TEST_DATABASE`).
async fn fresh_database(backend: BackendArg, pg_set: &[String]) -> anyhow::Result<TestDb> {
    let data_dir =
        std::env::temp_dir().join(format!("otcpay-loadgen-{}", otcpay::ids::random_hex(6)));
    std::fs::create_dir_all(&data_dir)?;
    let (url, kind, postgres_name) = match backend {
        BackendArg::Sqlite => (
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("loadgen.db").display()
            ),
            Backend::Sqlite,
            None,
        ),
        BackendArg::Postgres => {
            let admin_url = postgres_admin_url();
            let admin = Database::connect(&admin_url)
                .await
                .with_context(|| format!("PostgreSQL at {admin_url}"))?;
            let name = format!("otcpay_test_{}", otcpay::ids::random_hex(6));
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            for setting in pg_set {
                let (key, value) = setting
                    .split_once('=')
                    .filter(|(k, _)| {
                        !k.is_empty()
                            && k.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
                    })
                    .ok_or_else(|| anyhow!("--pg-set takes NAME=VALUE, not {setting:?}"))?;
                let value = value.replace('\'', "''");
                admin
                    .execute_unprepared(&format!("ALTER DATABASE {name} SET {key} = '{value}'"))
                    .await
                    .with_context(|| format!("ALTER DATABASE … SET {key}"))?;
                eprintln!("database {name}: {key} = '{value}'");
            }
            let _ = admin.close().await;
            // `…/<database>[?options]`: the same server and options, another database
            // (e.g. `?sslmode=disable` keeps TLS off the loopback connections).
            let (without_query, query) = match admin_url.split_once('?') {
                Some((url, query)) => (url, format!("?{query}")),
                None => (admin_url.as_str(), String::new()),
            };
            let base = without_query
                .rsplit_once('/')
                .map(|(base, _)| base.to_owned())
                .ok_or_else(|| anyhow!("OTCPAY_TEST_POSTGRES_URL must end with /<database>"))?;
            eprintln!("database {name} on {base}{query}");
            (
                format!("{base}/{name}{query}"),
                Backend::Postgres,
                Some(name),
            )
        }
    };
    let settings = otcpay::config::Settings {
        data_dir: data_dir.clone(),
        database_url: Some(Secret::new(url.clone())),
        database_max_connections: 2,
        ..otcpay::config::Settings::default()
    };
    let db = otcpay::db::connect(&settings).await?;
    otcpay::db::migrate(&db).await?;
    Ok(TestDb::adopt(db, kind, url, data_dir, postgres_name))
}

async fn expect_status(
    response: reqwest::Response,
    want: u16,
    what: &str,
) -> anyhow::Result<Value> {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status != want {
        bail!("{what}: expected {want}, got {status}: {body}");
    }
    Ok(body)
}

/// An active acceptor with 10 000 000 USDT, a quote near 7.20 and a bank transfer
/// method, online, taking up to [`ACCEPTOR_MAX_CONCURRENT_ORDERS`] orders at once.
async fn seed_acceptor(
    app: &TestApp,
    admin: &str,
    n: u64,
    fiat: &str,
    rate_spread: f64,
) -> anyhow::Result<()> {
    let email = format!("load-{n}-{}@acceptor.test", otcpay::ids::random_hex(4));
    let password = "acceptor-password-1";
    let name = format!("Load Acceptor {n}");
    let created = app
        .post(
            "/api/v1/admin/acceptors",
            Some(admin),
            &json!({"email": email, "password": password, "display_name": name,
                    "commission_rate": "0.004",
                    "max_concurrent_orders": ACCEPTOR_MAX_CONCURRENT_ORDERS}),
        )
        .await;
    let created = expect_status(created, 201, "acceptor creation").await?;
    let id = created["id"]
        .as_str()
        .ok_or_else(|| anyhow!("acceptor id in {created}"))?
        .to_owned();
    let deposit = app
        .post(
            &format!("/api/v1/admin/acceptors/{id}/deposits"),
            Some(admin),
            &json!({"amount": "10000000.00", "network": "tron",
                    "txid": format!("load-{}", otcpay::ids::random_hex(12))}),
        )
        .await;
    expect_status(deposit, 201, "deposit").await?;
    let login = expect_status(app.login(&email, password).await, 200, "acceptor login").await?;
    let token = login["token"]
        .as_str()
        .ok_or_else(|| anyhow!("token in {login}"))?
        .to_owned();
    // 7.20 ± the spread, in hundredths.
    let steps = (rate_spread.abs() * 100.0).round() as i64;
    let offset = if steps > 0 {
        rand::random_range(-steps..=steps)
    } else {
        0
    };
    let cents = 720 + offset.clamp(-700, 10_000);
    let rate = format!("{}.{:02}", cents / 100, cents % 100);
    let quote = app
        .request(
            Method::PUT,
            &format!("/api/v1/acceptor/quotes/{fiat}"),
            Some(&token),
            Some(&json!({"rate": rate, "min_amount": "1.00", "max_amount": "100000.00"})),
        )
        .await;
    if !quote.status().is_success() {
        bail!(
            "quote: {} {}",
            quote.status(),
            quote.text().await.unwrap_or_default()
        );
    }
    let method = app
        .post(
            "/api/v1/acceptor/payment-methods",
            Some(&token),
            &json!({"fiat": fiat, "method": "bank_transfer",
                    "details": {"bank_name": "Load Bank", "account_name": name,
                                "account_number": format!("6222 0000 {n:04}")}}),
        )
        .await;
    expect_status(method, 201, "payment method").await?;
    let online = app
        .request(
            Method::PUT,
            "/api/v1/acceptor/online",
            Some(&token),
            Some(&json!({"online": true})),
        )
        .await;
    expect_status(online, 200, "going online").await?;
    Ok(())
}

/// Stops using the spawned database; dropping it removes the PostgreSQL database and
/// the temp dir unless `keep_db`.
fn clean_up(app: TestApp, keep_db: bool) {
    let TestApp { mut db, state, .. } = app;
    drop(state);
    if keep_db && let Some(name) = db.keep_database() {
        eprintln!("kept the database {name}");
    }
}

// ---------------------------------------------------------------------------------------

/// `host:port` of a plain-HTTP base URL: the workers speak HTTP/1.1 over their own
/// connections, without TLS.
fn http_authority(base: &str) -> anyhow::Result<String> {
    let url = reqwest::Url::parse(base).with_context(|| format!("base URL {base}"))?;
    if url.scheme() != "http" {
        bail!("the load generator speaks plain HTTP; {base} is not http://");
    }
    let host = url.host_str().ok_or_else(|| anyhow!("no host in {base}"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    Ok(format!("{host}:{port}"))
}

/// CPU seconds (user + system) this process has used so far (Linux; 0 elsewhere).
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15 (clock ticks).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

fn ms(micros: u64) -> f64 {
    (micros as f64 / 1000.0 * 100.0).round() / 100.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // reqwest is built without a default TLS provider (the workspace picks ring).
    otcpay::telemetry::install_crypto_provider();
    let deliveries = Arc::new(AtomicU64::new(0));
    let mut target = match &args.url {
        Some(url) => {
            let base = url.trim_end_matches('/').to_owned();
            // Load goes to this machine only: a loopback address or `localhost`.
            let parsed = reqwest::Url::parse(&base).with_context(|| format!("--url {base}"))?;
            let host = parsed.host_str().unwrap_or_default();
            let host_ok = host.eq_ignore_ascii_case("localhost")
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !host_ok {
                bail!(
                    "--url must point at this machine (127.0.0.0/8, [::1] or localhost), not {base}"
                );
            }
            Target {
                base,
                signer: Signer {
                    key_id: args.key_id.clone().unwrap_or_default(),
                    secret: args.secret.clone().unwrap_or_default(),
                },
                backend: args.backend,
                acceptors: 0,
                capacity: None,
                app: None,
                merchant_id: None,
            }
        }
        None => spawn_target(&args, deliveries.clone()).await?,
    };

    let concurrency = args.concurrency.max(1);
    let authority = http_authority(&target.base)?;
    let run_id = otcpay::ids::random_hex(4);

    // Orders stay assigned during the run: the seeded acceptors can hold only so many.
    let room = target.capacity.map(|c| c.saturating_sub(args.warmup));
    let measured = match (args.duration, room) {
        (Some(_), None) => u64::MAX,
        (Some(_), Some(room)) => room,
        (None, Some(room)) => args.orders.min(room),
        (None, None) => args.orders,
    };
    if let Some(room) = room
        && (args.duration.is_some() || args.orders > room)
    {
        eprintln!(
            "note: {} acceptors hold at most {} open orders; the run stops after {room} orders at the latest",
            target.acceptors,
            room + args.warmup
        );
    }

    if args.warmup > 0 {
        let warm = run(
            &authority,
            &args,
            &target,
            &run_id,
            RunSpec {
                label: "warm-up",
                first_index: 0,
                count: args.warmup,
                duration: None,
                concurrency,
                quiet: args.quiet,
            },
        )
        .await?;
        eprintln!(
            "warm-up: {} orders, {} assigned, {} errors in {:.2} s",
            warm.sent, warm.assigned, warm.errors, warm.seconds
        );
    }

    let load_before = load_average();
    let cpu_before = process_cpu_seconds();
    let result = run(
        &authority,
        &args,
        &target,
        &run_id,
        RunSpec {
            label: "orders",
            first_index: args.warmup,
            count: measured,
            duration: args.duration.map(Duration::from_secs_f64),
            concurrency,
            quiet: args.quiet,
        },
    )
    .await?;

    let h = &result.histogram;
    let per_sec = if result.seconds > 0.0 {
        result.assigned as f64 / result.seconds
    } else {
        0.0
    };
    eprintln!();
    eprintln!(
        "backend {} · concurrency {concurrency} · acceptors {} · {}",
        target.backend.as_str(),
        target.acceptors,
        target.base
    );
    eprintln!(
        "sent {} orders in {:.2} s: {} assigned (201, status assigned), {} errors",
        result.sent, result.seconds, result.assigned, result.errors
    );
    eprintln!("throughput: {per_sec:.0} assigned orders/s");
    eprintln!(
        "latency of assigned orders (ms): p50 {} · p90 {} · p99 {} · p99.9 {} · max {}",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.value_at_quantile(0.999)),
        ms(h.max()),
    );
    let cpu = process_cpu_seconds() - cpu_before;
    eprintln!(
        "CPU of this process (load generator{}): {cpu:.2} s = {:.3} ms per order, {:.2} cores · load average before {load_before}, after {}",
        if target.app.is_some() {
            " + server"
        } else {
            ""
        },
        if result.sent > 0 {
            cpu * 1000.0 / result.sent as f64
        } else {
            0.0
        },
        if result.seconds > 0.0 {
            cpu / result.seconds
        } else {
            0.0
        },
        load_average(),
    );
    for (kind, count) in &result.error_kinds {
        eprintln!("  error {kind}: {count}");
    }
    for sample in &result.error_samples {
        eprintln!("  e.g. {sample}");
    }
    // The server commits before it answers: every assigned order must be in the database.
    if let (Some(app), Some(merchant_id)) = (&target.app, &target.merchant_id) {
        use otcpay::orders::order;
        let persisted = order::Entity::find()
            .filter(order::Column::MerchantId.eq(merchant_id.as_str()))
            .filter(order::Column::Status.eq("assigned"))
            .count(&app.db.db)
            .await?;
        eprintln!("orders persisted as assigned (warm-up included): {persisted}");
    }
    if args.webhook {
        eprintln!(
            "webhooks received so far: {}",
            deliveries.load(Ordering::Relaxed)
        );
    }

    // One JSON line, keys in the documented order.
    let line = format!(
        concat!(
            "{{\"backend\": \"{}\", \"orders\": {}, \"assigned\": {}, \"errors\": {}, ",
            "\"seconds\": {:.3}, \"orders_per_sec\": {:.1}, \"p50_ms\": {}, \"p90_ms\": {}, ",
            "\"p99_ms\": {}, \"max_ms\": {}, \"concurrency\": {}, \"acceptors\": {}}}"
        ),
        target.backend.as_str(),
        result.sent,
        result.assigned,
        result.errors,
        result.seconds,
        per_sec,
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max()),
        concurrency,
        target.acceptors,
    );
    println!("{line}");
    if let Some(app) = target.app.take() {
        clean_up(app, args.keep_db);
    }
    Ok(())
}
