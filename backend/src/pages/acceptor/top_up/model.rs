//! The acceptor's `Top up` page: its liquidity top-up addresses and on-chain deposits.

use askama::Template;

use crate::pages::PageCtx;
use crate::pages::top_up::TopUp;

#[derive(Template)]
#[template(path = "acceptor/top_up.html")]
pub struct TopUpPage {
    pub ctx: PageCtx,
    /// `None`: no network's deposits are followed, or the acceptor is not active.
    pub top_up: Option<TopUp>,
    /// Why there is nothing to show (the platform has no chain on; not approved yet).
    pub notice: Option<String>,
}
