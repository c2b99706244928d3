//! Queries of the public endpoints.

use std::collections::HashMap;

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::model::{DepthLevel, aggregate_depth};
use crate::acceptors::{acceptor, quote};
use crate::ledger::{self, AccountKey};
use crate::money::{FiatCurrency, Rate};

/// The stored status of an acceptor that may trade.
const ACTIVE: &str = "active";

/// The live order book of `fiat`, aggregated per rate (see [`aggregate_depth`]): every
/// acceptor that is `active` and online and quotes `fiat` offers its available live
/// ledger balance — what it can still reserve for new orders — at its quoted rate.
/// Sandbox balances never count. The result names no acceptor.
///
/// Two queries whatever the number of acceptors: the quotes (filtered by a subquery on
/// the acceptors table), then the ledger accounts of those acceptors.
pub async fn depth(
    db: &impl ConnectionTrait,
    fiat: FiatCurrency,
) -> Result<Vec<DepthLevel>, DbErr> {
    let tradable_acceptors = Query::select()
        .column(acceptor::Column::Id)
        .from(acceptor::Entity)
        .and_where(acceptor::Column::Status.eq(ACTIVE))
        .and_where(acceptor::Column::Online.eq(true))
        .to_owned();
    let quotes = quote::Entity::find()
        .filter(quote::Column::Fiat.eq(fiat.code))
        .filter(quote::Column::AcceptorId.in_subquery(tradable_acceptors))
        .all(db)
        .await?;
    if quotes.is_empty() {
        return Ok(Vec::new());
    }

    let account_ids: Vec<String> = quotes
        .iter()
        .map(|q| AccountKey::acceptor(q.acceptor_id.as_str(), true).id())
        .collect();
    let available: HashMap<String, i64> = ledger::find_accounts(db, &account_ids)
        .await?
        .into_iter()
        .map(|account| (account.id.clone(), account.balance().available))
        .collect();

    let offers = quotes.iter().zip(&account_ids).filter_map(|(q, account_id)| {
        let rate = match Rate::parse(&q.rate) {
            Ok(rate) => rate,
            Err(error) => {
                tracing::warn!(quote = %q.id, rate = %q.rate, %error, "unreadable quote rate; left out of the rates");
                return None;
            }
        };
        Some((rate, available.get(account_id).copied().unwrap_or(0)))
    });
    Ok(aggregate_depth(offers))
}
