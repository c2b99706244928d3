//! A fresh, migrated database per test, on SQLite or PostgreSQL.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use otcpay::config::{Secret, Settings};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend this test run uses (`OTCPAY_TEST_DATABASE`).
    pub fn from_env() -> Self {
        match std::env::var("OTCPAY_TEST_DATABASE").as_deref() {
            Ok("postgres") | Ok("postgresql") => Self::Postgres,
            Ok("sqlite") | Ok("") | Err(_) => Self::Sqlite,
            Ok(other) => panic!("OTCPAY_TEST_DATABASE must be sqlite or postgres, not {other:?}"),
        }
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("OTCPAY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

pub fn redis_url() -> Option<String> {
    std::env::var("OTCPAY_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

fn random_suffix() -> String {
    otcpay::ids::random_hex(6)
}

pub struct TestDb {
    pub db: DatabaseConnection,
    pub backend: Backend,
    /// The URL the server should use to reach this database.
    pub url: String,
    /// Keeps a SQLite temp dir alive for the test's lifetime.
    pub data_dir: std::path::PathBuf,
}

impl TestDb {
    /// A fresh, migrated database on the backend of this run.
    pub async fn new() -> Self {
        let backend = Backend::from_env();
        let data_dir = std::env::temp_dir().join(format!("otcpay-test-{}", random_suffix()));
        std::fs::create_dir_all(&data_dir).expect("create temp data dir");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}?mode=rwc", data_dir.join("test.db").display()),
            Backend::Postgres => create_postgres_database().await,
        };
        let settings = Settings {
            data_dir: data_dir.clone(),
            database_url: Some(Secret::new(url.clone())),
            database_max_connections: 32,
            ..Settings::default()
        };
        let db = otcpay::db::connect(&settings)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the {backend:?} test database: {e}"));
        otcpay::db::migrate(&db).await.expect("migrations apply");
        Self {
            db,
            backend,
            url,
            data_dir,
        }
    }
}

/// Creates `otcpay_test_<random>` on the PostgreSQL server and returns its URL.
async fn create_postgres_database() -> String {
    let admin_url = postgres_admin_url();
    let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is required for this test run (OTCPAY_TEST_DATABASE=postgres) but \
             {admin_url} is unreachable: {e}"
        )
    });
    let name = format!("otcpay_test_{}", random_suffix());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    let _ = admin.close().await;
    match admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("OTCPAY_TEST_POSTGRES_URL must end with /<database>"),
    }
}
