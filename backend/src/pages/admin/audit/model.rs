//! The audit log page's data.

use askama::Template;
use serde::Deserialize;

use crate::pages::PageCtx;
use crate::pages::admin::Chrome;

/// `GET /admin/audit?actor=&action=&from=&to=&target_type=&target_id=&starting_after=`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub target_type: String,
    #[serde(default)]
    pub target_id: String,
    pub starting_after: Option<String>,
}

pub struct AuditRow {
    pub id: String,
    pub at: (String, String),
    /// The actor's email when known, else its id or role.
    pub actor: String,
    pub actor_role: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    /// Where the object is shown in the console, if it is.
    pub target_href: Option<String>,
    pub details: String,
    pub ip: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub ctx: PageCtx,
    pub chrome: Chrome,
    pub query: AuditQuery,
    pub rows: Vec<AuditRow>,
    /// `(field id, message)` of filters that could not be read.
    pub errors: Vec<(&'static str, String)>,
    pub more: Option<String>,
}

impl AuditPage {
    /// `2026-12-07` of `2026-12-07 10:15 UTC`.
    pub fn day<'a>(&self, human: &'a str) -> &'a str {
        human.split_once(' ').map_or(human, |(day, _)| day)
    }

    /// `10:15 UTC` of `2026-12-07 10:15 UTC`.
    pub fn clock<'a>(&self, human: &'a str) -> &'a str {
        human.split_once(' ').map_or("", |(_, clock)| clock)
    }

    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The console page of an audited object.
pub fn target_href(target_type: &str, target_id: Option<&str>) -> Option<String> {
    let id = target_id?;
    let base = match target_type {
        "acceptor" => "/admin/acceptors",
        "merchant" => "/admin/merchants",
        "dispute" => "/admin/disputes",
        _ => return None,
    };
    Some(format!("{base}/{id}"))
}
