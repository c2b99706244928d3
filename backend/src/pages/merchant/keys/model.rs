//! The API keys page's data: every key (never its id in clear: the display prefix),
//! and — in the answer of the creation only — the new key id and secret.

use askama::Template;
use serde::Deserialize;

use crate::ids::ApiKeyId;
use crate::merchants::api_key;
use crate::pages::{PageCtx, time_pair};

#[derive(Debug, Deserialize)]
pub struct CreateKeyForm {
    #[serde(default)]
    pub csrf_token: String,
    /// `live` or `test`.
    #[serde(default)]
    pub mode: String,
}

pub struct KeyRow {
    pub id: ApiKeyId,
    pub prefix: String,
    pub livemode: bool,
    pub kind: String,
    pub created: (String, String),
    pub last_used: Option<(String, String)>,
    pub revoked: Option<(String, String)>,
}

impl From<&api_key::Model> for KeyRow {
    fn from(k: &api_key::Model) -> Self {
        Self {
            id: k.id.clone(),
            prefix: k.key_id_prefix.clone(),
            livemode: k.livemode,
            kind: k.kind.as_str().to_owned(),
            created: time_pair(k.created_at),
            last_used: k.last_used_at.map(time_pair),
            revoked: k.revoked_at.map(time_pair),
        }
    }
}

/// A key just created: shown once, in the response of the `POST`.
pub struct NewKey {
    pub key_id: String,
    pub secret: String,
    pub livemode: bool,
}

#[derive(Template)]
#[template(path = "merchant/keys.html")]
pub struct KeysPage {
    pub ctx: PageCtx,
    pub keys: Vec<KeyRow>,
    pub created: Option<NewKey>,
}

impl KeysPage {
    pub fn mode(&self, livemode: &bool) -> &str {
        self.ctx.t(super::super::mode_key(*livemode))
    }

    pub fn revoke_question(&self, key: &KeyRow) -> String {
        self.ctx
            .fmt("merchant_keys.revoke_question", &[("prefix", &key.prefix)])
    }
}
