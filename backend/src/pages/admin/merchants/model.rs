//! The merchant pages' data.

use askama::Template;
use serde::Deserialize;

use crate::ids::ApiKeyId;
use crate::merchants::api_key;
use crate::merchants::model::MerchantView;
use crate::pages::PageCtx;
use crate::pages::admin::Chrome;

/// `POST /admin/merchants`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub fee_rate: String,
}

/// `GET /admin/merchants?starting_after=`.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub starting_after: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/merchants.html")]
pub struct MerchantsPage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    pub rows: Vec<MerchantView>,
    pub more: Option<String>,
    pub form: CreateForm,
    /// A refusal of the creation: `(field id, message)`.
    pub error: Option<(String, String)>,
}

impl MerchantsPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn status_word(&self, status: &str) -> &str {
        status_word(&self.ctx, status)
    }

    pub fn human(&self, rfc3339: &str) -> String {
        crate::pages::human_time_of(rfc3339)
    }
}

pub fn status_word<'a>(ctx: &'a PageCtx, status: &str) -> &'a str {
    if status == "suspended" {
        ctx.t("admin_merchants.status_suspended")
    } else {
        ctx.t("admin_merchants.status_active")
    }
}

/// A key as issued, shown once.
pub struct ShownKey {
    pub key_id: String,
    pub secret: String,
}

#[derive(Template)]
#[template(path = "admin/merchant_created.html")]
pub struct CreatedPage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    pub merchant: MerchantView,
    pub live: ShownKey,
    pub test: ShownKey,
    pub webhook_secret: String,
}

impl CreatedPage {
    /// Where the merchant's invitation went.
    pub fn invitation_text(&self) -> String {
        self.ctx.fmt(
            "admin_merchants.invitation_sent",
            &[("email", self.merchant.email.as_str())],
        )
    }
}

/// A key row of the merchant page (never a secret).
pub struct KeyRow {
    pub id: ApiKeyId,
    pub prefix: String,
    pub livemode: bool,
    pub kind: String,
    pub created_at: (String, String),
    pub last_used_at: Option<(String, String)>,
    pub revoked: bool,
}

impl KeyRow {
    pub fn new(k: &api_key::Model) -> Self {
        Self {
            id: k.id.clone(),
            prefix: k.key_id_prefix.clone(),
            livemode: k.livemode,
            kind: k.kind.as_str().to_owned(),
            created_at: crate::pages::time_pair(k.created_at),
            last_used_at: k.last_used_at.map(crate::pages::time_pair),
            revoked: k.revoked_at.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/merchant.html")]
pub struct MerchantPage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    pub merchant: MerchantView,
    pub keys: Vec<KeyRow>,
}

impl MerchantPage {
    pub fn status_word(&self) -> &str {
        status_word(&self.ctx, &self.merchant.status)
    }

    pub fn human(&self, rfc3339: &str) -> String {
        crate::pages::human_time_of(rfc3339)
    }

    pub fn auto_approve(&self) -> &str {
        self.merchant
            .auto_approve_withdrawals_below
            .as_deref()
            .unwrap_or("")
    }

    pub fn revoke_question(&self, key: &KeyRow) -> String {
        self.ctx.fmt(
            "admin_merchants.revoke_question",
            &[("key", &key.prefix), ("name", &self.merchant.name)],
        )
    }
}

/// `POST /admin/merchants/{id}/edit`.
#[derive(Debug, Default, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub fee_rate: String,
    #[serde(default)]
    pub rate_limit_per_minute: String,
    #[serde(default)]
    pub auto_approve_withdrawals_below: String,
}

/// `POST /admin/merchants/{id}/status`.
#[derive(Debug, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub status: String,
}
