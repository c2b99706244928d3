//! The `ledger_accounts` and `ledger_transfers` tables: entities and queries.
//!
//! Everything here takes `&impl ConnectionTrait` so that it runs inside the caller's
//! transaction. Row locks (`SELECT … FOR UPDATE`) are only requested on PostgreSQL; SQLite
//! is serialised by its single connection.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};

use super::model::{Account, AccountKey, Balances, Transfer};
use crate::db::supports_row_locks;

pub mod accounts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_accounts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub code: String,
        pub owner: String,
        pub livemode: bool,
        pub flags: i32,
        pub debits_pending: i64,
        pub debits_posted: i64,
        pub credits_pending: i64,
        pub credits_posted: i64,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod transfers {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_transfers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub debit_account_id: String,
        pub credit_account_id: String,
        pub amount: i64,
        pub pending_id: Option<String>,
        pub flags: i32,
        pub kind: String,
        pub reference: String,
        pub livemode: bool,
        pub created_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

impl From<accounts::Model> for Account {
    fn from(m: accounts::Model) -> Self {
        Self {
            balances: Balances {
                debits_pending: m.debits_pending,
                debits_posted: m.debits_posted,
                credits_pending: m.credits_pending,
                credits_posted: m.credits_posted,
            },
            id: m.id,
            code: m.code,
            owner: m.owner,
            livemode: m.livemode,
            flags: m.flags,
            created_at: m.created_at,
        }
    }
}

impl From<transfers::Model> for Transfer {
    fn from(m: transfers::Model) -> Self {
        Self {
            id: m.id,
            debit_account_id: m.debit_account_id,
            credit_account_id: m.credit_account_id,
            amount: m.amount,
            pending_id: m.pending_id,
            flags: m.flags,
            kind: m.kind,
            reference: m.reference,
            livemode: m.livemode,
            created_at: m.created_at,
        }
    }
}

impl From<&Transfer> for transfers::ActiveModel {
    fn from(t: &Transfer) -> Self {
        Self {
            id: Set(t.id.clone()),
            debit_account_id: Set(t.debit_account_id.clone()),
            credit_account_id: Set(t.credit_account_id.clone()),
            amount: Set(t.amount),
            pending_id: Set(t.pending_id.clone()),
            flags: Set(t.flags),
            kind: Set(t.kind.clone()),
            reference: Set(t.reference.clone()),
            livemode: Set(t.livemode),
            created_at: Set(t.created_at),
        }
    }
}

/// Inserts the accounts that do not exist yet, in one `INSERT … ON CONFLICT DO NOTHING`
/// (race-safe on PostgreSQL). Returns how many rows were inserted.
pub async fn insert_accounts_if_missing(
    conn: &impl ConnectionTrait,
    keys: &[AccountKey],
    now_ms: i64,
) -> Result<u64, DbErr> {
    let mut rows: Vec<accounts::ActiveModel> = keys
        .iter()
        .map(|key| accounts::ActiveModel {
            id: Set(key.id()),
            code: Set(key.code.as_str().to_owned()),
            owner: Set(key.owner.clone()),
            livemode: Set(key.livemode),
            flags: Set(key.flags()),
            debits_pending: Set(0),
            debits_posted: Set(0),
            credits_pending: Set(0),
            credits_posted: Set(0),
            created_at: Set(now_ms),
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    // One statement for all of them, in id order so that two openers racing over the
    // same new keys wait on each other instead of deadlocking.
    rows.sort_by(|a, b| a.id.as_ref().cmp(b.id.as_ref()));
    rows.dedup_by(|a, b| a.id.as_ref() == b.id.as_ref());
    let result = accounts::Entity::insert_many(rows)
        // No conflict target: a conflict on the primary key *or* on the unique
        // (code, owner, livemode) index is a no-op. With a target, PostgreSQL would still
        // raise a unique violation for the other index when two openers race.
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_without_returning(conn)
        .await;
    match result {
        Ok(rows) => Ok(rows),
        Err(DbErr::RecordNotInserted) => Ok(0),
        Err(err) => Err(err),
    }
}

pub async fn find_account(conn: &impl ConnectionTrait, id: &str) -> Result<Option<Account>, DbErr> {
    Ok(accounts::Entity::find_by_id(id.to_owned())
        .one(conn)
        .await?
        .map(Account::from))
}

/// The accounts with these ids, sorted by id. With `lock`, on PostgreSQL, the rows are
/// locked `FOR UPDATE` in id order (the lock is taken after the sort), so every batch
/// locks in the same global order and two batches cannot deadlock on accounts.
pub async fn load_accounts(
    conn: &impl ConnectionTrait,
    ids: &[String],
    lock: bool,
) -> Result<Vec<Account>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = accounts::Entity::find()
        .filter(accounts::Column::Id.is_in(ids.iter().cloned()))
        .order_by_asc(accounts::Column::Id);
    if lock && supports_row_locks(conn) {
        query = query.lock_exclusive();
    }
    Ok(query
        .all(conn)
        .await?
        .into_iter()
        .map(Account::from)
        .collect())
}

/// Writes the four balance columns of several accounts in one statement (`UPDATE …
/// FROM` a list of values, which PostgreSQL and SQLite ≥ 3.33 both accept). Every
/// account must exist.
pub async fn update_balances_of(
    conn: &impl ConnectionTrait,
    rows: &[(&str, &Balances)],
) -> Result<(), DbErr> {
    if let [(id, balances)] = rows {
        return update_balances(conn, id, balances).await;
    }
    if rows.is_empty() {
        return Ok(());
    }
    let backend = conn.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows.len() * 5);
    let mut tuples = Vec::with_capacity(rows.len());
    for (id, b) in rows {
        let mut placeholders = Vec::with_capacity(5);
        for value in [
            sea_orm::Value::from(*id),
            b.debits_pending.into(),
            b.debits_posted.into(),
            b.credits_pending.into(),
            b.credits_posted.into(),
        ] {
            values.push(value);
            placeholders.push(match backend {
                sea_orm::DbBackend::Postgres => format!("${}", values.len()),
                _ => "?".to_owned(),
            });
        }
        tuples.push(format!("({})", placeholders.join(", ")));
    }
    let sql = format!(
        "WITH v (id, debits_pending, debits_posted, credits_pending, credits_posted) AS \
         (VALUES {}) \
         UPDATE ledger_accounts SET debits_pending = v.debits_pending, \
         debits_posted = v.debits_posted, credits_pending = v.credits_pending, \
         credits_posted = v.credits_posted FROM v WHERE ledger_accounts.id = v.id",
        tuples.join(", ")
    );
    let result = conn
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    if result.rows_affected() != rows.len() as u64 {
        return Err(DbErr::RecordNotUpdated);
    }
    Ok(())
}

/// Writes an account's four balance columns.
pub async fn update_balances(
    conn: &impl ConnectionTrait,
    id: &str,
    balances: &Balances,
) -> Result<(), DbErr> {
    let result = accounts::Entity::update_many()
        .col_expr(
            accounts::Column::DebitsPending,
            Expr::value(balances.debits_pending),
        )
        .col_expr(
            accounts::Column::DebitsPosted,
            Expr::value(balances.debits_posted),
        )
        .col_expr(
            accounts::Column::CreditsPending,
            Expr::value(balances.credits_pending),
        )
        .col_expr(
            accounts::Column::CreditsPosted,
            Expr::value(balances.credits_posted),
        )
        .filter(accounts::Column::Id.eq(id))
        .exec(conn)
        .await?;
    if result.rows_affected != 1 {
        return Err(DbErr::RecordNotUpdated);
    }
    Ok(())
}

pub async fn find_transfer(
    conn: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<Transfer>, DbErr> {
    Ok(transfers::Entity::find_by_id(id.to_owned())
        .one(conn)
        .await?
        .map(Transfer::from))
}

/// Transfers whose id is in `ids`, or which resolve a pending transfer in `pending_ids`.
pub async fn find_transfers_or_resolutions(
    conn: &impl ConnectionTrait,
    ids: &[String],
    pending_ids: &[String],
) -> Result<Vec<Transfer>, DbErr> {
    if ids.is_empty() && pending_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut condition = Condition::any();
    if !ids.is_empty() {
        condition = condition.add(transfers::Column::Id.is_in(ids.iter().cloned()));
    }
    if !pending_ids.is_empty() {
        condition = condition.add(transfers::Column::PendingId.is_in(pending_ids.iter().cloned()));
    }
    Ok(transfers::Entity::find()
        .filter(condition)
        .all(conn)
        .await?
        .into_iter()
        .map(Transfer::from)
        .collect())
}

/// Appends transfer rows (one statement).
pub async fn insert_transfers(conn: &impl ConnectionTrait, rows: &[Transfer]) -> Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    transfers::Entity::insert_many(rows.iter().map(transfers::ActiveModel::from))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The transfers that debit or credit `account_id`, newest first (`created_at DESC, id
/// DESC`), after the transfer `starting_after` if given (an unknown cursor gives an empty
/// page).
pub async fn transfers_of_account(
    conn: &impl ConnectionTrait,
    account_id: &str,
    starting_after: Option<&str>,
    limit: u64,
) -> Result<Vec<Transfer>, DbErr> {
    let mut query = transfers::Entity::find().filter(
        Condition::any()
            .add(transfers::Column::DebitAccountId.eq(account_id))
            .add(transfers::Column::CreditAccountId.eq(account_id)),
    );
    if let Some(cursor) = starting_after {
        let Some(after) = transfers::Entity::find_by_id(cursor.to_owned())
            .one(conn)
            .await?
        else {
            return Ok(Vec::new());
        };
        query = query.filter(
            Condition::any()
                .add(transfers::Column::CreatedAt.lt(after.created_at))
                .add(
                    Condition::all()
                        .add(transfers::Column::CreatedAt.eq(after.created_at))
                        .add(transfers::Column::Id.lt(after.id)),
                ),
        );
    }
    Ok(query
        .order_by_desc(transfers::Column::CreatedAt)
        .order_by_desc(transfers::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(Transfer::from)
        .collect())
}

// ---------------------------------------------------------------------------------------
// Invariant-check queries. Plain SQL that runs unchanged on SQLite and PostgreSQL (no
// parameters); sums are cast to BIGINT so that both return i64. Each query returns only
// offending rows, at most `CHECK_ROW_LIMIT` of them.

/// At most this many rows per check query: a badly broken ledger still gives a bounded
/// report (and `ok = false`).
pub const CHECK_ROW_LIMIT: u64 = 1000;

#[derive(Debug, FromQueryResult)]
pub struct CountsRow {
    pub accounts: i64,
    pub transfers: i64,
}

#[derive(Debug, FromQueryResult)]
pub struct TotalsRow {
    pub livemode: bool,
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
}

#[derive(Debug, FromQueryResult)]
pub struct AccountColumnsRow {
    pub id: String,
    pub flags: i32,
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
}

#[derive(Debug, FromQueryResult)]
pub struct MismatchRow {
    pub id: String,
    pub debits_pending: i64,
    pub debits_posted: i64,
    pub credits_pending: i64,
    pub credits_posted: i64,
    pub r_debits_pending: i64,
    pub r_debits_posted: i64,
    pub r_credits_pending: i64,
    pub r_credits_posted: i64,
}

#[derive(Debug, FromQueryResult)]
pub struct ResolvedTwiceRow {
    pub pending_id: String,
    pub resolutions: i64,
}

#[derive(Debug, FromQueryResult)]
pub struct ResolutionRow {
    pub id: String,
    pub pending_id: String,
    pub flags: i32,
    pub amount: i64,
    pub p_id: Option<String>,
    pub p_flags: Option<i32>,
    pub p_amount: Option<i64>,
    pub same_accounts: bool,
}

#[derive(Debug, FromQueryResult)]
pub struct MalformedRow {
    pub id: String,
    pub debit_account_id: String,
    pub credit_account_id: String,
    pub amount: i64,
    pub flags: i32,
    pub pending_id: Option<String>,
    pub livemode: bool,
    pub debit_livemode: bool,
    pub credit_livemode: bool,
}

fn stmt(conn: &impl ConnectionTrait, sql: String) -> Statement {
    Statement::from_string(conn.get_database_backend(), sql)
}

pub async fn check_counts(conn: &impl ConnectionTrait) -> Result<CountsRow, DbErr> {
    let sql = "SELECT (SELECT COUNT(*) FROM ledger_accounts) AS accounts, \
               (SELECT COUNT(*) FROM ledger_transfers) AS transfers"
        .to_owned();
    CountsRow::find_by_statement(stmt(conn, sql))
        .one(conn)
        .await?
        .ok_or_else(|| DbErr::Custom("COUNT returned no row".to_owned()))
}

/// Column totals per livemode.
pub async fn check_totals(conn: &impl ConnectionTrait) -> Result<Vec<TotalsRow>, DbErr> {
    let sql = "SELECT livemode, \
               CAST(COALESCE(SUM(debits_pending), 0) AS BIGINT) AS debits_pending, \
               CAST(COALESCE(SUM(debits_posted), 0) AS BIGINT) AS debits_posted, \
               CAST(COALESCE(SUM(credits_pending), 0) AS BIGINT) AS credits_pending, \
               CAST(COALESCE(SUM(credits_posted), 0) AS BIGINT) AS credits_posted \
               FROM ledger_accounts GROUP BY livemode ORDER BY livemode"
        .to_owned();
    TotalsRow::find_by_statement(stmt(conn, sql))
        .all(conn)
        .await
}

/// Accounts with a negative column or (no-overdraft ones) debits above credits.
pub async fn check_account_columns(
    conn: &impl ConnectionTrait,
) -> Result<Vec<AccountColumnsRow>, DbErr> {
    let sql = format!(
        "SELECT id, flags, debits_pending, debits_posted, credits_pending, credits_posted \
         FROM ledger_accounts \
         WHERE debits_pending < 0 OR debits_posted < 0 OR credits_pending < 0 \
            OR credits_posted < 0 \
            OR ((flags & 1) = 1 AND debits_pending + debits_posted > credits_posted) \
         ORDER BY id LIMIT {CHECK_ROW_LIMIT}"
    );
    AccountColumnsRow::find_by_statement(stmt(conn, sql))
        .all(conn)
        .await
}

/// Accounts whose cached columns differ from a replay of the transfers, computed with
/// GROUP BY aggregates: posted = single-phase and post rows (neither PENDING nor VOID);
/// pending = PENDING rows that no row resolves yet.
pub async fn check_replay(conn: &impl ConnectionTrait) -> Result<Vec<MismatchRow>, DbErr> {
    let side = |column: &str| {
        format!(
            "SELECT t.{column} AS account_id, \
               CAST(COALESCE(SUM(CASE WHEN (t.flags & 5) = 0 THEN t.amount ELSE 0 END), 0) \
                 AS BIGINT) AS posted, \
               CAST(COALESCE(SUM(CASE WHEN (t.flags & 1) = 1 AND NOT EXISTS \
                 (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = t.id) \
                 THEN t.amount ELSE 0 END), 0) AS BIGINT) AS pending \
             FROM ledger_transfers t GROUP BY t.{column}"
        )
    };
    let sql = format!(
        "SELECT a.id AS id, a.debits_pending AS debits_pending, \
           a.debits_posted AS debits_posted, a.credits_pending AS credits_pending, \
           a.credits_posted AS credits_posted, \
           CAST(COALESCE(d.pending, 0) AS BIGINT) AS r_debits_pending, \
           CAST(COALESCE(d.posted, 0) AS BIGINT) AS r_debits_posted, \
           CAST(COALESCE(c.pending, 0) AS BIGINT) AS r_credits_pending, \
           CAST(COALESCE(c.posted, 0) AS BIGINT) AS r_credits_posted \
         FROM ledger_accounts a \
         LEFT JOIN ({debit}) d ON d.account_id = a.id \
         LEFT JOIN ({credit}) c ON c.account_id = a.id \
         WHERE a.debits_pending <> COALESCE(d.pending, 0) \
            OR a.debits_posted <> COALESCE(d.posted, 0) \
            OR a.credits_pending <> COALESCE(c.pending, 0) \
            OR a.credits_posted <> COALESCE(c.posted, 0) \
         ORDER BY a.id LIMIT {CHECK_ROW_LIMIT}",
        debit = side("debit_account_id"),
        credit = side("credit_account_id"),
    );
    MismatchRow::find_by_statement(stmt(conn, sql))
        .all(conn)
        .await
}

/// Pending transfers resolved more than once (the unique index makes it impossible; the
/// check verifies it anyway).
pub async fn check_resolved_twice(
    conn: &impl ConnectionTrait,
) -> Result<Vec<ResolvedTwiceRow>, DbErr> {
    let sql = format!(
        "SELECT pending_id, COUNT(*) AS resolutions FROM ledger_transfers \
         WHERE pending_id IS NOT NULL GROUP BY pending_id HAVING COUNT(*) > 1 \
         ORDER BY pending_id LIMIT {CHECK_ROW_LIMIT}"
    );
    ResolvedTwiceRow::find_by_statement(stmt(conn, sql))
        .all(conn)
        .await
}

/// Posts and voids that do not fit their pending transfer.
pub async fn check_resolutions(conn: &impl ConnectionTrait) -> Result<Vec<ResolutionRow>, DbErr> {
    let sql = format!(
        "SELECT r.id AS id, r.pending_id AS pending_id, r.flags AS flags, r.amount AS amount, \
           p.id AS p_id, p.flags AS p_flags, p.amount AS p_amount, \
           (p.id IS NOT NULL AND r.debit_account_id = p.debit_account_id \
             AND r.credit_account_id = p.credit_account_id) AS same_accounts \
         FROM ledger_transfers r LEFT JOIN ledger_transfers p ON p.id = r.pending_id \
         WHERE r.pending_id IS NOT NULL AND ( \
           p.id IS NULL OR (p.flags & 1) = 0 \
           OR r.debit_account_id <> p.debit_account_id \
           OR r.credit_account_id <> p.credit_account_id \
           OR ((r.flags & 2) = 2 AND r.amount > p.amount) \
           OR ((r.flags & 4) = 4 AND r.amount <> p.amount)) \
         ORDER BY r.id LIMIT {CHECK_ROW_LIMIT}"
    );
    ResolutionRow::find_by_statement(stmt(conn, sql))
        .all(conn)
        .await
}

/// Rows no valid request writes: amount ≤ 0, debit = credit, flags other than exactly
/// one of none/PENDING/POST/VOID, `pending_id` present iff POST/VOID, or a livemode that
/// differs from its accounts'.
pub async fn check_malformed(conn: &impl ConnectionTrait) -> Result<Vec<MalformedRow>, DbErr> {
    let sql = format!(
        "SELECT t.id AS id, t.debit_account_id AS debit_account_id, \
           t.credit_account_id AS credit_account_id, t.amount AS amount, t.flags AS flags, \
           t.pending_id AS pending_id, t.livemode AS livemode, \
           d.livemode AS debit_livemode, c.livemode AS credit_livemode \
         FROM ledger_transfers t \
         JOIN ledger_accounts d ON d.id = t.debit_account_id \
         JOIN ledger_accounts c ON c.id = t.credit_account_id \
         WHERE t.amount <= 0 OR t.debit_account_id = t.credit_account_id \
            OR t.flags NOT IN (0, 1, 2, 4) \
            OR (t.pending_id IS NULL AND (t.flags & 6) <> 0) \
            OR (t.pending_id IS NOT NULL AND (t.flags & 6) = 0) \
            OR d.livemode <> t.livemode OR c.livemode <> t.livemode \
         ORDER BY t.id LIMIT {CHECK_ROW_LIMIT}"
    );
    MalformedRow::find_by_statement(stmt(conn, sql))
        .all(conn)
        .await
}
