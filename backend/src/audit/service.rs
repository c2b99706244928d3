//! Recording audit entries. Callers pass their transaction so that the entry commits
//! (or rolls back) with the action it describes.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};

use super::store;
use crate::db::now_ms;
use crate::ids;

pub struct AuditEntry<'a> {
    pub actor_id: Option<&'a str>,
    /// `admin`, `system`, `cli`.
    pub actor_role: &'a str,
    /// Dotted verb, e.g. `merchant.create`, `acceptor.freeze`.
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<&'a str>,
    /// Non-secret details of the action.
    pub details: serde_json::Value,
    pub ip: Option<&'a str>,
}

pub async fn record(db: &impl ConnectionTrait, entry: AuditEntry<'_>) -> Result<(), DbErr> {
    store::ActiveModel {
        id: Set(ids::new("aud")),
        actor_id: Set(entry.actor_id.map(str::to_owned)),
        actor_role: Set(entry.actor_role.to_owned()),
        action: Set(entry.action.to_owned()),
        target_type: Set(entry.target_type.to_owned()),
        target_id: Set(entry.target_id.map(str::to_owned)),
        details: Set(entry.details.to_string()),
        ip: Set(entry.ip.map(str::to_owned)),
        created_at: Set(now_ms()),
    }
    .insert(db)
    .await?;
    Ok(())
}

// Reads the pages may use; the queries stay in `store.rs`.
pub use super::store::{list, list_filtered};
