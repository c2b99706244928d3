//! Database connections: the embedded SQLite file or PostgreSQL, one migration set.
//!
//! SQLite runs in WAL mode with a busy timeout and foreign keys on, through a pool of
//! exactly one connection: SQLite has one writer at a time anyway, and a single
//! connection makes every transaction serialisable without `SQLITE_BUSY` upgrade
//! failures. Code must therefore never hold a transaction while waiting on another
//! pool connection (use the transaction handle for everything inside it).
//! PostgreSQL gets a normal pool; correctness under concurrency comes from row locks
//! (`SELECT … FOR UPDATE`) and `FOR UPDATE SKIP LOCKED` claims.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

use crate::config::Settings;

pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    let url = settings.database_url();
    if settings.is_embedded() {
        let private = |e: std::io::Error| DbErr::Custom(format!("cannot create the data dir: {e}"));
        crate::config::create_private_dir(&settings.data_dir).map_err(private)?;
        crate::config::create_private_file(&settings.sqlite_path()).map_err(private)?;
    }
    let mut options = connect_options(&url);
    if url.starts_with("sqlite:") {
        options
            .max_connections(1)
            .min_connections(1)
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
    } else {
        options.max_connections(settings.database_max_connections);
    }
    Database::connect(options).await
}

/// What every connection of the server shares: statements are not logged (they carry
/// data), and a database that does not answer fails the request instead of hanging it.
fn connect_options(url: &str) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10));
    options
}

/// Prepared statements each order writer's connection keeps: its multi-row statements
/// differ by row count, eight kinds of them, and a re-prepare costs the server a parse
/// and the writer a round trip.
const WRITER_STATEMENT_CACHE: usize = 256;

/// On PostgreSQL, one connection of its own for each order writer
/// (`orders::writer`), in addition to the pool, so that each keeps the statements it
/// uses prepared (the pool's connections take turns and would each prepare all of them).
/// On SQLite, `None`: its one connection is shared.
pub async fn connect_writers(
    settings: &Settings,
    writers: usize,
) -> Result<Option<Vec<DatabaseConnection>>, DbErr> {
    let url = settings.database_url();
    if url.starts_with("sqlite:") {
        return Ok(None);
    }
    let mut connections = Vec::with_capacity(writers);
    for _ in 0..writers {
        let mut options = connect_options(&url);
        options
            .max_connections(1)
            .min_connections(1)
            .map_sqlx_postgres_opts(|opts| opts.statement_cache_capacity(WRITER_STATEMENT_CACHE));
        connections.push(Database::connect(options).await?);
    }
    Ok(Some(connections))
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// True on PostgreSQL, where row locks and `SKIP LOCKED` exist.
pub fn supports_row_locks(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// A cheap round trip for `/readyz`.
/// A read-only transaction that sees one consistent snapshot (PostgreSQL
/// `REPEATABLE READ READ ONLY`; SQLite's single connection is one anyway), for reports
/// made of several queries: the ledger check, a statement page.
pub async fn read_snapshot(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::{AccessMode, IsolationLevel, TransactionTrait};
    if supports_row_locks(db) {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await
    } else {
        db.begin().await
    }
}

pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.ping().await
}

/// Milliseconds since the Unix epoch: the one clock of persisted timestamps.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// RFC 3339 UTC (`2026-11-21T10:15:00Z`) for API responses.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp from a query parameter into Unix milliseconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The text a stored enum is written as (`orders.status`, `api_keys.kind`, …), once:
/// `ALL`, `as_str`, `parse`, and the `FromStr` the sea-orm value type reads with — a
/// stored value that is none of them fails the read, never becomes a default — and
/// `Display`. The enum derives `sea_orm::DeriveValueType` with
/// `#[sea_orm(value_type = "String")]`.
macro_rules! stored_as_text {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = sea_orm::sea_query::ValueTypeErr;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(text).ok_or(sea_orm::sea_query::ValueTypeErr)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use stored_as_text;

/// A write refused by a unique index (a concurrent duplicate, or a replay).
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
