//! `GET /acceptor/top-up`: the service of `GET /api/v1/acceptor/deposit-addresses` and
//! `GET /api/v1/acceptor/deposits`, rendered.

use actix_web::{HttpRequest, HttpResponse, web};

use super::model::TopUpPage;
use crate::acceptors::model::AcceptorStatus;
use crate::acceptors::service;
use crate::chain::entity::OwnerKind;
use crate::pages::context::state_of;
use crate::pages::top_up::top_up;
use crate::pages::{AcceptorPage, PageError, render};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/acceptor/top-up", web::get().to(show));
}

async fn show(
    AcceptorPage { ctx, user }: AcceptorPage,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&req)?;
    let api = |err| PageError::from_api(ctx.tr, err);
    let a = service::acceptor_of_user(&state.db, &user.user_id)
        .await
        .map_err(api)?;
    let (section, notice) = match a.status {
        AcceptorStatus::Active => {
            let section = top_up(&state, &ctx, OwnerKind::Acceptor, a.id.as_str())
                .await
                .map_err(api)?;
            let notice = section.is_none().then(|| ctx.t("top_up.off").to_owned());
            (section, notice)
        }
        AcceptorStatus::Pending => (None, Some(ctx.t("quotes.pending").to_owned())),
        AcceptorStatus::Frozen => (None, Some(ctx.t("quotes.frozen").to_owned())),
    };
    let page = TopUpPage {
        ctx: ctx.clone(),
        top_up: section,
        notice,
    };
    render(&ctx, &page)
}
