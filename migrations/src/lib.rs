//! Database migrations for OTCPay.
//!
//! One migration set runs on both SQLite (embedded default) and PostgreSQL. Portable
//! choices, kept by every migration here:
//! - timestamps are `BIGINT` Unix milliseconds (no dialect-specific time types);
//! - money is `BIGINT` in the smallest unit (micro-USDT, fiat minor units); rates are
//!   decimal strings in `TEXT`;
//! - ids are prefixed opaque strings (`mch_…`, `acc_…`) in `TEXT` primary keys;
//! - booleans are `BOOLEAN` (SQLite stores 0/1).
//!
//! Later work adds tables with new migration files; an applied migration is never edited.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_foundation;
mod m20261121_000002_orders;
mod m20261121_000003_withdrawals;
mod m20261207_000004_sessions;
mod m20261207_000005_portal;
mod m20261207_000006_merchant_logins;
mod m20261207_000007_webhook_rotation;
mod m20261207_000008_chain;
mod m20261207_000009_onchain_orders;

/// Schema-building shorthands shared by the migrations.
pub(crate) mod helpers {
    use sea_orm_migration::prelude::*;

    /// `CREATE INDEX name ON table (columns…)`; add `.unique()` for a unique index.
    pub fn index(name: &str, table: &str, columns: &[&str]) -> IndexCreateStatement {
        let mut stmt = Index::create();
        stmt.name(name).table(Alias::new(table));
        for column in columns {
            stmt.col(Alias::new(*column));
        }
        stmt.to_owned()
    }

    /// A foreign key from `from_table.from_col` to `to_table.id`.
    pub fn fk(from_table: &str, from_col: &str, to_table: &str) -> ForeignKeyCreateStatement {
        ForeignKey::create()
            .from(Alias::new(from_table), Alias::new(from_col))
            .to(Alias::new(to_table), Alias::new("id"))
            .to_owned()
    }
}

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_foundation::Migration),
            Box::new(m20261121_000002_orders::Migration),
            Box::new(m20261121_000003_withdrawals::Migration),
            Box::new(m20261207_000004_sessions::Migration),
            Box::new(m20261207_000005_portal::Migration),
            Box::new(m20261207_000006_merchant_logins::Migration),
            Box::new(m20261207_000007_webhook_rotation::Migration),
            Box::new(m20261207_000008_chain::Migration),
            Box::new(m20261207_000009_onchain_orders::Migration),
        ]
    }
}
