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
    /// The server's data dir (and the SQLite file); removed when the test ends.
    pub data_dir: std::path::PathBuf,
    /// The PostgreSQL database this test created; dropped when the test ends.
    postgres_name: Option<String>,
}

impl TestDb {
    /// A fresh, migrated database on the backend of this run.
    pub async fn new() -> Self {
        let backend = Backend::from_env();
        let data_dir = std::env::temp_dir().join(format!("otcpay-test-{}", random_suffix()));
        std::fs::create_dir_all(&data_dir).expect("create temp data dir");
        let (url, postgres_name) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}?mode=rwc", data_dir.join("test.db").display()),
                None,
            ),
            Backend::Postgres => {
                let (url, name) = create_postgres_database().await;
                (url, Some(name))
            }
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
        Self::adopt(db, backend, url, data_dir, postgres_name)
    }

    /// Wraps a database made elsewhere (the load generator makes its own, with extra
    /// settings); it is cleaned up like one made by [`TestDb::new`].
    pub fn adopt(
        db: DatabaseConnection,
        backend: Backend,
        url: String,
        data_dir: std::path::PathBuf,
        postgres_name: Option<String>,
    ) -> Self {
        Self {
            db,
            backend,
            url,
            data_dir,
            postgres_name,
        }
    }

    /// Keeps the PostgreSQL database when this ends (to inspect it); returns its name.
    pub fn keep_database(&mut self) -> Option<String> {
        self.postgres_name.take()
    }
}

/// A suite of a few hundred tests must not fill the disk: each test's files and
/// database go when it ends (`tests/run.sh` also drops leftovers of killed runs).
impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some(name) = self.postgres_name.take() {
            // Drop runs inside the test's runtime, which cannot be blocked on; a
            // short-lived thread with its own runtime does the network call.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(drop_postgres_database(&name));
                }
            })
            .join();
        }
    }
}

/// `WITH (FORCE)` ends the sessions the test's server may still hold.
async fn drop_postgres_database(name: &str) {
    if let Ok(admin) = Database::connect(&postgres_admin_url()).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        let _ = admin.close().await;
    }
}

/// Creates `otcpay_test_<random>` on the PostgreSQL server; returns its URL and name.
async fn create_postgres_database() -> (String, String) {
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
        Some((base, _)) => (format!("{base}/{name}"), name),
        None => panic!("OTCPAY_TEST_POSTGRES_URL must end with /<database>"),
    }
}
