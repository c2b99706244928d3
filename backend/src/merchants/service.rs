//! Merchant use cases: creation with its keys and webhook secret, updates, API key
//! issue and revocation. Every admin action writes its audit entry in the same
//! transaction as the change.
//!
//! Secrets (HMAC API secrets, the `whsec_…` webhook secret) are returned once, by the
//! call that creates them, and stored only sealed with the master key. Key ids are
//! stored only as a keyed hash (`MasterKey::lookup_hash`) plus a display prefix.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, IntoActiveModel, TransactionTrait,
};
use serde_json::json;

use super::invite;
use super::key_cache::KeyCache;
use super::model::{
    KeyKind, KeyMode, MerchantPatch, MerchantStatus, NewApiKey, NewMerchant, key_id_display_prefix,
    new_hmac_secret, new_key_id, new_webhook_secret,
};
use super::store::{self, api_key, merchant};
use crate::audit::{self, AuditEntry};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::ids::{ApiKeyId, MerchantId};
use crate::ledger::{self, AccountKey};
use crate::state::AppState;

/// Who performs an admin action, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user_id: &'a str,
    pub ip: &'a str,
}

/// A key as issued: the only moment its id (and HMAC secret) exist in clear.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub key_id: String,
    /// The HMAC secret; `None` for ECDSA keys (the merchant keeps the private key).
    pub secret: Option<String>,
    pub mode: KeyMode,
    pub kind: KeyKind,
    pub row: api_key::Model,
}

/// The result of creating a merchant.
#[derive(Debug, Clone)]
pub struct CreatedMerchant {
    pub merchant: merchant::Model,
    pub live_key: IssuedKey,
    pub test_key: IssuedKey,
    pub webhook_secret: String,
}

impl CreatedMerchant {
    pub fn keys(&self) -> Vec<api_key::Model> {
        vec![self.live_key.row.clone(), self.test_key.row.clone()]
    }
}

fn not_found_merchant() -> ApiError {
    ApiError::not_found("merchant")
}

async fn insert_key(
    conn: &impl ConnectionTrait,
    state: &AppState,
    merchant_id: &MerchantId,
    spec: &NewApiKey,
    now: i64,
) -> ApiResult<IssuedKey> {
    let key_id = new_key_id(spec.mode);
    let (kind, secret) = match &spec.public_key_pem {
        Some(_) => (KeyKind::EcdsaP256, None),
        None => (KeyKind::Hmac, Some(new_hmac_secret())),
    };
    let row = api_key::ActiveModel {
        id: Set(ApiKeyId::generate()),
        key_id_hash: Set(state.keys.lookup_hash(&key_id)),
        key_id_prefix: Set(key_id_display_prefix(&key_id)),
        merchant_id: Set(merchant_id.clone()),
        livemode: Set(spec.mode.livemode()),
        kind: Set(kind),
        secret_enc: Set(secret.as_deref().map(|s| state.keys.seal(s))),
        public_key_pem: Set(spec.public_key_pem.clone()),
        revoked_at: Set(None),
        last_used_at: Set(None),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(IssuedKey {
        key_id,
        secret,
        mode: spec.mode,
        kind,
        row,
    })
}

/// Creates a merchant with one live and one test HMAC key and a webhook secret, opens
/// its live and sandbox ledger accounts, creates its dashboard login (the contact email)
/// and mails it an invitation, and audits it — all in one transaction. An email that
/// already names a merchant or a portal user → `409 email_taken`.
pub async fn create_merchant(
    state: &AppState,
    actor: Actor<'_>,
    input: NewMerchant,
) -> ApiResult<CreatedMerchant> {
    if let Some(url) = &input.webhook_url {
        check_endpoint(state, url).await?;
    }
    let now = now_ms();
    let webhook_secret = new_webhook_secret();
    // The login's password is a random one nobody knows until the invitation's link
    // replaces it; hashed before the transaction (argon2 is slow).
    let placeholder_hash =
        crate::auth::service::hash_password(&state.settings, &ids::random_hex(32)).await?;
    let txn = state.db.begin().await?;
    let user = invite::create_login(&txn, &input, placeholder_hash, now).await?;
    let merchant = merchant::ActiveModel {
        id: Set(MerchantId::generate()),
        user_id: Set(Some(user.id.clone())),
        name: Set(input.name),
        email: Set(input.email),
        status: Set(MerchantStatus::Active),
        fee_rate: Set(input.fee_rate.to_string()),
        default_fiat: Set(input.default_fiat.map(|f| f.code.to_owned())),
        webhook_url: Set(input.webhook_url),
        webhook_secret_enc: Set(state.keys.seal(&webhook_secret)),
        webhook_secret_prev_enc: Set(None),
        webhook_secret_prev_expires_at: Set(None),
        rate_limit_per_minute: Set(input.rate_limit_per_minute),
        auto_approve_withdrawals_below: Set(input.auto_approve_withdrawals_below),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let live_key = insert_key(
        &txn,
        state,
        &merchant.id,
        &NewApiKey {
            mode: KeyMode::Live,
            public_key_pem: None,
        },
        now,
    )
    .await?;
    let test_key = insert_key(
        &txn,
        state,
        &merchant.id,
        &NewApiKey {
            mode: KeyMode::Test,
            public_key_pem: None,
        },
        now,
    )
    .await?;
    ledger::open_accounts(
        &txn,
        &[
            AccountKey::merchant(merchant.id.clone(), true),
            AccountKey::merchant(merchant.id.clone(), false),
        ],
    )
    .await?;
    audit::record(
        &txn,
        AuditEntry {
            actor_id: Some(actor.user_id),
            actor_role: "admin",
            action: "merchant.create",
            target_type: "merchant",
            target_id: Some(&merchant.id),
            details: json!({
                "name": merchant.name,
                "email": merchant.email,
                "fee_rate": merchant.fee_rate,
                "default_fiat": merchant.default_fiat,
                "webhook_url": merchant.webhook_url,
                "rate_limit_per_minute": merchant.rate_limit_per_minute,
                "auto_approve_withdrawals_below": merchant.auto_approve_withdrawals_below,
                "api_keys": [live_key.row.key_id_prefix, test_key.row.key_id_prefix],
            }),
            ip: Some(actor.ip),
        },
    )
    .await?;
    invite::send(&txn, state, &user, &merchant.name).await?;
    txn.commit().await?;
    Ok(CreatedMerchant {
        merchant,
        live_key,
        test_key,
        webhook_secret,
    })
}

/// A merchant and all its keys (revoked ones included).
pub async fn get_merchant(
    db: &impl ConnectionTrait,
    merchant_id: &MerchantId,
) -> ApiResult<(merchant::Model, Vec<api_key::Model>)> {
    let merchant = store::find_merchant(db, merchant_id)
        .await?
        .ok_or_else(not_found_merchant)?;
    let keys = store::keys_of_merchants(db, std::slice::from_ref(&merchant.id)).await?;
    Ok((merchant, keys))
}

/// Up to `limit` merchants newest first, and the keys of all of them.
pub async fn list_merchants(
    db: &impl ConnectionTrait,
    starting_after: Option<&str>,
    limit: u64,
) -> ApiResult<(Vec<merchant::Model>, Vec<api_key::Model>)> {
    let merchants = store::list_merchants(db, starting_after, limit).await?;
    let ids: Vec<MerchantId> = merchants.iter().map(|m| m.id.clone()).collect();
    let keys = store::keys_of_merchants(db, &ids).await?;
    Ok((merchants, keys))
}

/// Applies a patch; only the fields it sets are written, so concurrent patches of
/// different fields do not undo each other.
pub async fn update_merchant(
    state: &AppState,
    actor: Actor<'_>,
    merchant_id: &MerchantId,
    patch: MerchantPatch,
) -> ApiResult<(merchant::Model, Vec<api_key::Model>)> {
    update_merchant_as(state, actor, "admin", merchant_id, patch).await
}

/// [`update_merchant`] audited with `actor_role` (`admin`, or `merchant` from the
/// dashboard).
pub async fn update_merchant_as(
    state: &AppState,
    actor: Actor<'_>,
    actor_role: &'static str,
    merchant_id: &MerchantId,
    patch: MerchantPatch,
) -> ApiResult<(merchant::Model, Vec<api_key::Model>)> {
    if let Some(Some(url)) = &patch.webhook_url {
        check_endpoint(state, url).await?;
    }
    let txn = state.db.begin().await?;
    let (current, _) = get_merchant(&txn, merchant_id).await?;
    let fields = patch.field_names();
    let mut row = current.into_active_model();
    if let Some(name) = patch.name {
        row.name = Set(name);
    }
    if let Some(fee_rate) = patch.fee_rate {
        row.fee_rate = Set(fee_rate.to_string());
    }
    if let Some(status) = patch.status {
        row.status = Set(status);
    }
    if let Some(fiat) = patch.default_fiat {
        row.default_fiat = Set(fiat.map(|f| f.code.to_owned()));
    }
    if let Some(url) = patch.webhook_url {
        row.webhook_url = Set(url);
    }
    if let Some(limit) = patch.rate_limit_per_minute {
        row.rate_limit_per_minute = Set(limit);
    }
    if let Some(threshold) = patch.auto_approve_withdrawals_below {
        row.auto_approve_withdrawals_below = Set(threshold);
    }
    row.updated_at = Set(now_ms());
    let updated = row.update(&txn).await?;
    audit::record(
        &txn,
        AuditEntry {
            actor_id: Some(actor.user_id),
            actor_role,
            action: "merchant.update",
            target_type: "merchant",
            target_id: Some(&updated.id),
            details: json!({
                "fields": fields,
                "status": updated.status.as_str(),
                "fee_rate": updated.fee_rate,
                "default_fiat": updated.default_fiat,
                "webhook_url": updated.webhook_url,
                "rate_limit_per_minute": updated.rate_limit_per_minute,
                "auto_approve_withdrawals_below": updated.auto_approve_withdrawals_below,
            }),
            ip: Some(actor.ip),
        },
    )
    .await?;
    let keys = store::keys_of_merchants(&txn, std::slice::from_ref(&updated.id)).await?;
    txn.commit().await?;
    KeyCache::of(state)?.invalidate();
    Ok((updated, keys))
}

/// Issues a new key for the merchant (HMAC, or ECDSA P-256 with the given public key).
pub async fn create_api_key(
    state: &AppState,
    actor: Actor<'_>,
    merchant_id: &MerchantId,
    spec: NewApiKey,
) -> ApiResult<IssuedKey> {
    create_api_key_as(state, actor, "admin", merchant_id, spec).await
}

/// [`create_api_key`] audited with `actor_role` (`merchant` from the dashboard).
pub async fn create_api_key_as(
    state: &AppState,
    actor: Actor<'_>,
    actor_role: &'static str,
    merchant_id: &MerchantId,
    spec: NewApiKey,
) -> ApiResult<IssuedKey> {
    let txn = state.db.begin().await?;
    let (merchant, _) = get_merchant(&txn, merchant_id).await?;
    let issued = insert_key(&txn, state, &merchant.id, &spec, now_ms()).await?;
    audit::record(
        &txn,
        AuditEntry {
            actor_id: Some(actor.user_id),
            actor_role,
            action: "merchant.api_key.create",
            target_type: "merchant",
            target_id: Some(&merchant.id),
            details: json!({
                "key_id_prefix": issued.row.key_id_prefix,
                "mode": issued.mode.as_str(),
                "kind": issued.kind.as_str(),
            }),
            ip: Some(actor.ip),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(issued)
}

/// Which key to revoke: the public key id (admin API) or the key's row id (`key_…`,
/// the dashboard, which never holds the key id in clear).
#[derive(Debug, Clone, Copy)]
pub enum KeyRef<'a> {
    KeyId(&'a str),
    Row(&'a str),
}

/// Revokes a merchant's key, found by the keyed hash of its id within that merchant.
/// Revoking a revoked key again changes nothing (and is not audited again).
pub async fn revoke_api_key(
    state: &AppState,
    actor: Actor<'_>,
    merchant_id: &MerchantId,
    key_id: &str,
) -> ApiResult<()> {
    revoke_api_key_as(state, actor, "admin", merchant_id, KeyRef::KeyId(key_id)).await
}

/// [`revoke_api_key`] by either reference, audited with `actor_role`.
pub async fn revoke_api_key_as(
    state: &AppState,
    actor: Actor<'_>,
    actor_role: &'static str,
    merchant_id: &MerchantId,
    key: KeyRef<'_>,
) -> ApiResult<()> {
    let txn = state.db.begin().await?;
    let (merchant, keys) = get_merchant(&txn, merchant_id).await?;
    let found = match key {
        KeyRef::KeyId(key_id) => {
            store::find_key_of_merchant(&txn, &merchant.id, &state.keys.lookup_hash(key_id)).await?
        }
        KeyRef::Row(row_id) => keys.into_iter().find(|k| k.id == row_id),
    };
    let key = found.ok_or_else(|| ApiError::not_found("API key"))?;
    if key.revoked_at.is_some() {
        txn.commit().await?;
        return Ok(());
    }
    let prefix = key.key_id_prefix.clone();
    let mut row = key.into_active_model();
    row.revoked_at = Set(Some(now_ms()));
    row.update(&txn).await?;
    audit::record(
        &txn,
        AuditEntry {
            actor_id: Some(actor.user_id),
            actor_role,
            action: "merchant.api_key.revoke",
            target_type: "merchant",
            target_id: Some(&merchant.id),
            details: json!({ "key_id_prefix": prefix }),
            ip: Some(actor.ip),
        },
    )
    .await?;
    txn.commit().await?;
    KeyCache::of(state)?.invalidate();
    Ok(())
}

/// The merchant whose login user is `user_id` (the dashboard's session); a user that is
/// no merchant's gets `403 forbidden`.
pub async fn merchant_of_user(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> ApiResult<merchant::Model> {
    store::find_merchant_of_user(db, user_id)
        .await?
        .ok_or_else(ApiError::forbidden)
}

/// The dispatcher's SSRF rules (scheme, and every address of the host must be public
/// unless private targets are allowed), checked when an endpoint is saved — by an admin
/// or by the merchant — so that a refused endpoint is known then, not at the first
/// delivery (which checks again: DNS may change).
async fn check_endpoint(state: &AppState, url: &str) -> ApiResult<()> {
    crate::ssrf::check_url(url, state.settings.allow_private_webhooks())
        .await
        .map(drop)
        .map_err(|refused| {
            ApiError::invalid_request(format!("The endpoint cannot be used: {refused}."))
                .with_param("webhook_url")
        })
}

/// Sets (or with `None` clears) the merchant's webhook endpoint: the URL rule of the
/// admin API, then (in [`update_merchant_as`]) the dispatcher's SSRF rules.
pub async fn set_webhook_url(
    state: &AppState,
    actor: Actor<'_>,
    actor_role: &'static str,
    merchant_id: &MerchantId,
    url: Option<&str>,
) -> ApiResult<merchant::Model> {
    let url = match url.map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(text) => Some(super::model::parse_webhook_url(serde_json::Value::String(
            text.to_owned(),
        ))?),
    };
    let patch = MerchantPatch {
        webhook_url: Some(url),
        ..MerchantPatch::default()
    };
    let (merchant, _) = update_merchant_as(state, actor, actor_role, merchant_id, patch).await?;
    Ok(merchant)
}

/// Replaces the merchant's webhook secret with a new `whsec_…` (returned once). The old
/// one keeps signing — as a second signature in `webhook-signature` — for
/// `webhook_secret_overlap_seconds`, so receivers can switch without losing events.
/// The change and its audit entry are one transaction.
pub async fn rotate_webhook_secret(
    state: &AppState,
    actor: Actor<'_>,
    actor_role: &'static str,
    merchant_id: &MerchantId,
) -> ApiResult<String> {
    let secret = new_webhook_secret();
    let now = now_ms();
    let overlap_ms = i64::try_from(
        state
            .settings
            .webhook_secret_overlap_seconds
            .saturating_mul(1000),
    )
    .unwrap_or(i64::MAX / 2);
    let txn = state.db.begin().await?;
    let (current, _) = get_merchant(&txn, merchant_id).await?;
    let previous = current.webhook_secret_enc.clone();
    let mut row = current.into_active_model();
    row.webhook_secret_prev_enc = Set(Some(previous));
    row.webhook_secret_prev_expires_at = Set(Some(now.saturating_add(overlap_ms)));
    row.webhook_secret_enc = Set(state.keys.seal(&secret));
    row.updated_at = Set(now);
    let updated = row.update(&txn).await?;
    audit::record(
        &txn,
        AuditEntry {
            actor_id: Some(actor.user_id),
            actor_role,
            action: "merchant.webhook_secret.rotate",
            target_type: "merchant",
            target_id: Some(&updated.id),
            details: json!({ "previous_valid_until": updated.webhook_secret_prev_expires_at }),
            ip: Some(actor.ip),
        },
    )
    .await?;
    txn.commit().await?;
    KeyCache::of(state)?.invalidate();
    Ok(secret)
}

/// The names of several merchants by id, in one query (ids that do not exist are left
/// out): the admin lists show a name beside each row.
pub async fn names_of(
    db: &impl ConnectionTrait,
    merchant_ids: impl IntoIterator<Item = MerchantId>,
) -> Result<std::collections::HashMap<MerchantId, String>, sea_orm::DbErr> {
    Ok(store::find_merchants(db, merchant_ids)
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect())
}

/// A merchant's name, empty when there is no such merchant.
pub async fn name_of(
    db: &impl ConnectionTrait,
    merchant_id: &MerchantId,
) -> Result<String, sea_orm::DbErr> {
    Ok(store::find_merchant(db, merchant_id)
        .await?
        .map(|m| m.name)
        .unwrap_or_default())
}

// Reads other features and the pages may use; the queries stay in `store.rs`.
pub use super::store::{find_merchant, find_merchant_by_email, find_merchants};
