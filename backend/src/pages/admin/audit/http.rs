//! `GET /admin/audit`.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{AuditPage, AuditQuery, AuditRow, target_href};
use crate::audit::AuditFilter;
use crate::audit::service::list_filtered;
use crate::ids::UserId;
use crate::pages::admin::{Chrome, db};
use crate::pages::context::{state_of, urlencode};
use crate::pages::filters::day_range;
use crate::pages::{AdminPage, PageError, render, time_pair};

const PAGE_SIZE: u64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/audit", web::get().to(show));
}

fn filled(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

async fn show(
    page: AdminPage,
    req: HttpRequest,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    let AdminPage { ctx, user } = page;
    let state = state_of(&req)?;
    let query = query.into_inner();
    let mut errors = Vec::new();
    let (from_ms, until_ms) = day_range(
        &query.from,
        &query.to,
        ctx.t("admin_audit.error_date"),
        &mut errors,
    );
    // Who: an email is looked up; anything else is taken as a user id.
    let actor_id = match filled(&query.actor) {
        Some(actor) if actor.contains('@') => Some(
            crate::auth::service::find_by_email(&state.db, &actor.to_lowercase())
                .await
                .map_err(db(&ctx))?
                .map_or_else(|| "(nobody)".to_owned(), |u| u.id.to_string()),
        ),
        other => other,
    };
    let filter = AuditFilter {
        actor_id,
        action: filled(&query.action),
        from_ms,
        until_ms,
        target_type: filled(&query.target_type),
        target_id: filled(&query.target_id),
        starting_after: query.starting_after.clone(),
    };
    let rows = list_filtered(&state.db, &filter, PAGE_SIZE + 1)
        .await
        .map_err(db(&ctx))?;
    let found = crate::pagination::Page::from_rows(rows, PAGE_SIZE);
    let mut emails: HashMap<String, String> = HashMap::new();
    for id in found.data.iter().filter_map(|r| r.actor_id.as_ref()) {
        if !emails.contains_key(id)
            && let Some(user_id) = UserId::parse(id)
            && let Some(u) = crate::auth::service::find_by_id(&state.db, &user_id)
                .await
                .map_err(db(&ctx))?
        {
            emails.insert(u.id.to_string(), u.email);
        }
    }
    let more = match (found.has_more, found.data.last()) {
        (true, Some(last)) => Some(format!(
            "/admin/audit?actor={}&action={}&from={}&to={}&target_type={}&target_id={}&starting_after={}",
            urlencode(&query.actor),
            urlencode(&query.action),
            urlencode(&query.from),
            urlencode(&query.to),
            urlencode(&query.target_type),
            urlencode(&query.target_id),
            urlencode(&last.id),
        )),
        _ => None,
    };
    let rows = found
        .data
        .into_iter()
        .map(|r| AuditRow {
            at: time_pair(r.created_at),
            actor: r
                .actor_id
                .as_ref()
                .map(|id| emails.get(id).cloned().unwrap_or_else(|| id.clone()))
                .unwrap_or_else(|| r.actor_role.clone()),
            target_href: target_href(&r.target_type, r.target_id.as_deref()),
            id: r.id,
            actor_role: r.actor_role,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            details: r.details,
            ip: r.ip,
        })
        .collect();
    let shown = AuditPage {
        chrome: Chrome::of(&state, &user),
        query,
        rows,
        errors,
        more,
        ctx: ctx.clone(),
    };
    render(&ctx, &shown)
}
