//! `webhook_events.status`, apart from `model.rs` so that the record can name it.

/// An event is `pending` until an attempt delivers it (`delivered`) or the retry
/// schedule is spent (`failed`; a merchant may ask for it again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, sea_orm::DeriveValueType)]
#[serde(rename_all = "lowercase")]
#[sea_orm(value_type = "String")]
pub enum EventStatus {
    Pending,
    Delivered,
    Failed,
}

crate::db::stored_as_text!(EventStatus {
    Pending => "pending",
    Delivered => "delivered",
    Failed => "failed",
});
