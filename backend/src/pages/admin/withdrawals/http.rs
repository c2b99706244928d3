//! The withdrawal queue's handlers.

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::{ActionForm, WithdrawalRow, WithdrawalsPage};
use crate::client_addr::client_ip;
use crate::ids::WithdrawalId;
use crate::money::format_usdt;
use crate::pages::admin::disputes::model::ConfirmPage;
use crate::pages::admin::{Chrome, back_with, db, money_gate, refusal};
use crate::pages::context::state_of;
use crate::pages::{AdminPage, PageError, render};
use crate::values::parse_reason;
use crate::withdrawals::WithdrawalFilter;
use crate::withdrawals::model::{WithdrawalStatus, parse_txid};
use crate::withdrawals::service::{self, Action, Reviewer};

const LIST: &str = "/admin/withdrawals";
/// Rows of each status shown.
const SHOWN: u64 = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(LIST, web::get().to(list))
        .route("/admin/withdrawals/{id}/{action}", web::post().to(act));
}

async fn list(page: AdminPage, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let AdminPage { ctx, user } = page;
    let state = state_of(&req)?;
    let mut found = Vec::new();
    for status in [WithdrawalStatus::Review, WithdrawalStatus::Approved] {
        let filter = WithdrawalFilter {
            status: Some(status),
            ..Default::default()
        };
        let mut rows = service::list(&state.db, &filter, SHOWN)
            .await
            .map_err(db(&ctx))?;
        // Oldest first: the queue is worked from its head.
        rows.reverse();
        found.extend(rows);
    }
    let names =
        crate::merchants::service::names_of(&state.db, found.iter().map(|w| w.merchant_id.clone()))
            .await
            .map_err(db(&ctx))?;
    let shown = WithdrawalsPage {
        chrome: Chrome::of(&state, &user),
        rows: found
            .iter()
            .map(|w| WithdrawalRow::new(w, names.get(&w.merchant_id).cloned().unwrap_or_default()))
            .collect(),
        ctx: ctx.clone(),
    };
    render(&ctx, &shown)
}

async fn act(
    page: AdminPage,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, PageError> {
    let ctx = &page.ctx;
    ctx.check_csrf(&form.csrf_token)?;
    let state = state_of(&req)?;
    let (id, verb) = path.into_inner();
    let back = Some(LIST);
    if matches!(verb.as_str(), "approve" | "complete" | "fail")
        && let Some(refused) = money_gate(&state, &page, back, LIST)
    {
        return Ok(refused);
    }
    let reason = form.reason.clone().filter(|r| !r.trim().is_empty());
    if matches!(verb.as_str(), "reject" | "fail") && reason.is_none() {
        // Without JavaScript (or an empty reason): ask for it on a page of its own.
        let w = service::find(&state.db, &ctx.named(WithdrawalId::named(&id))?)
            .await
            .map_err(db(ctx))?
            .ok_or(PageError::NotFound(ctx.tr))?;
        let merchant = crate::merchants::service::name_of(&state.db, &w.merchant_id)
            .await
            .map_err(db(ctx))?;
        let args = [("amount", format_usdt(w.amount)), ("merchant", merchant)];
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reject = verb == "reject";
        let shown = ConfirmPage {
            ctx: ctx.clone(),
            chrome: Chrome::of(&state, &page.user),
            heading: ctx
                .t(if reject {
                    "admin_withdrawals.reject_heading"
                } else {
                    "admin_withdrawals.fail_heading"
                })
                .to_owned(),
            question: ctx.fmt(
                if reject {
                    "admin_withdrawals.reject_question"
                } else {
                    "admin_withdrawals.fail_question"
                },
                &args,
            ),
            action: format!("{LIST}/{id}/{verb}"),
            fields: Vec::new(),
            ask_reason: true,
            button: ctx
                .t(if reject {
                    "admin_withdrawals.reject"
                } else {
                    "admin_withdrawals.fail"
                })
                .to_owned(),
            button_class: "btn-danger",
            back: LIST.to_owned(),
        };
        return render(ctx, &shown);
    }
    let action = match verb.as_str() {
        "approve" => Ok(Action::Approve),
        "reject" => parse_reason(reason).map(|reason| Action::Reject { reason }),
        "fail" => parse_reason(reason).map(|reason| Action::Fail { reason }),
        "complete" => parse_txid(form.txid.clone().map(serde_json::Value::from))
            .map(|txid| Action::Complete { txid }),
        _ => return Err(PageError::NotFound(ctx.tr)),
    };
    let ip = client_ip(&req);
    let reviewer = Reviewer {
        user_id: &page.user.user_id,
        ip: Some(&ip),
    };
    let outcome = match action {
        Ok(action) => {
            service::transition(
                &state,
                &ctx.named(WithdrawalId::named(&id))?,
                action,
                reviewer,
            )
            .await
        }
        Err(err) => Err(err),
    };
    match outcome {
        Ok(w) => {
            let key = match verb.as_str() {
                "approve" => "admin_withdrawals.approved",
                "reject" => "admin_withdrawals.rejected",
                "complete" => "admin_withdrawals.completed",
                _ => "admin_withdrawals.failed",
            };
            let text = ctx.fmt(key, &[("amount", &format_usdt(w.amount))]);
            Ok(back_with(ctx, back, LIST, "success", &text))
        }
        Err(err) => refusal(ctx, back, LIST, err),
    }
}
