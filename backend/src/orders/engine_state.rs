//! The matching engine's state as the database holds it: acceptors, quotes, payment
//! methods, ledger balances and open orders, read at start to rebuild the engine. It
//! lives with the orders because it reads both them and the acceptor directory.

use std::collections::HashMap;

use matching_engine::{
    AcceptorMarketState, AcceptorState, Assignment, Engine, EngineConfig, EngineState, Event,
    NewOrder, OrderState, Quote,
};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use super::model::OrderStatus;
use super::order;
use crate::acceptor_directory::{acceptor, payment_method, quote};
use crate::ledger::{self, AccountKey};
use crate::money::Rate;

/// Reads the engine's state from the database. Live money only: sandbox orders never
/// reach real acceptors.
pub async fn load_state(db: &impl ConnectionTrait) -> Result<EngineState, DbErr> {
    let acceptors = acceptor::Entity::find().all(db).await?;
    let quotes = quote::Entity::find().all(db).await?;
    let methods = payment_method::Entity::find().all(db).await?;

    let mut markets: HashMap<String, HashMap<String, AcceptorMarketState>> = HashMap::new();
    for q in quotes {
        let Ok(rate) = Rate::parse(&q.rate) else {
            tracing::warn!(acceptor = %q.acceptor_id, fiat = %q.fiat, "unparseable stored rate");
            continue;
        };
        let side = markets
            .entry(q.acceptor_id.to_string())
            .or_default()
            .entry(q.fiat.clone())
            .or_insert_with(|| AcceptorMarketState {
                fiat: q.fiat.clone(),
                quote: None,
                payment_methods: Vec::new(),
                last_assigned: 0,
            });
        side.quote = Some(Quote {
            rate: rate.decimal(),
            min_amount: q.min_amount,
            max_amount: q.max_amount,
        });
    }
    for m in methods {
        let side = markets
            .entry(m.acceptor_id.to_string())
            .or_default()
            .entry(m.fiat.clone())
            .or_insert_with(|| AcceptorMarketState {
                fiat: m.fiat.clone(),
                quote: None,
                payment_methods: Vec::new(),
                last_assigned: 0,
            });
        if !side.payment_methods.contains(&m.method) {
            side.payment_methods.push(m.method);
        }
    }

    let mut acceptor_states = Vec::with_capacity(acceptors.len());
    for a in acceptors {
        let liquidity = ledger::balance(db, &AccountKey::acceptor(a.id.clone(), true))
            .await?
            .posted;
        let mut sides: Vec<AcceptorMarketState> = markets
            .remove(a.id.as_str())
            .map(|m| m.into_values().collect())
            .unwrap_or_default();
        sides.sort_by(|x, y| x.fiat.cmp(&y.fiat));
        acceptor_states.push(AcceptorState {
            id: a.id.into(),
            online: a.online,
            status: a.status.in_engine(),
            liquidity,
            max_concurrent_orders: u32::try_from(a.max_concurrent_orders).unwrap_or(0),
            completion_score: 0,
            markets: sides,
        });
    }

    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    let open = order::Entity::find()
        .filter(order::Column::Livemode.eq(true))
        .filter(order::Column::Status.is_in(OrderStatus::HOLDING_ENGINE.iter().map(|s| s.as_str())))
        .order_by_asc(order::Column::Id)
        .all(db)
        .await?;
    let mut orders = Vec::with_capacity(open.len());
    for o in open {
        let excluded: Vec<String> = serde_json::from_str(&o.excluded_acceptors).unwrap_or_default();
        let new_order = NewOrder {
            id: o.id.to_string(),
            fiat: o.fiat_currency.clone(),
            amount: o.amount,
            payment_method: o.payment_method.clone(),
            excluded_acceptors: excluded,
            match_deadline: o.match_deadline.unwrap_or(o.expires_at),
        };
        let assignment = match (&o.acceptor_id, &o.rate, o.fiat_amount) {
            (Some(acceptor), Some(rate), Some(fiat_amount))
                if o.status != OrderStatus::Matching =>
            {
                Rate::parse(rate).ok().map(|rate| Assignment {
                    acceptor: acceptor.to_string(),
                    rate: rate.decimal(),
                    fiat_amount,
                })
            }
            _ => None,
        };
        orders.push(OrderState {
            order: new_order,
            assignment,
        });
    }
    Ok(EngineState {
        acceptors: acceptor_states,
        orders,
    })
}

/// Rebuilds the engine from the database. The returned events (waiting orders that can
/// be assigned now) must be persisted once the server state exists.
pub async fn rebuild(
    db: &impl ConnectionTrait,
    config: EngineConfig,
) -> anyhow::Result<(Engine, Vec<Event>)> {
    let state = load_state(db).await?;
    let (engine, events) = Engine::restore(config, state)?;
    Ok((engine, events))
}
