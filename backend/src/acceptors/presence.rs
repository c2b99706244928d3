//! Presence follows the desk: while an acceptor has a live connection (the desk's event
//! stream), each node beats `acceptors.live_seen_at` ([`beat_every`]); when the last
//! connection has been gone longer than `OTCPAY_PRESENCE_GRACE_SECONDS`, the sweeper takes
//! the acceptor offline through the same path as the Online switch (its unpaid orders go
//! to other acceptors). An acceptor that never opened a live connection (an API client)
//! is never taken offline by this: its `live_seen_at` is null.
//!
//! Several nodes: the beats are rows in the database, and the sweeper claims an acceptor
//! with a conditional update, so one node takes it offline.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::store::acceptor;
use crate::db::now_ms;
use crate::state::AppState;

/// How often an open connection refreshes `live_seen_at`: every 15 s, and at least three
/// times per grace period.
pub fn beat_every(grace_seconds: u64) -> Duration {
    (Duration::from_secs(grace_seconds) / 3)
        .clamp(Duration::from_millis(200), Duration::from_secs(15))
}

/// Keeps an acceptor present while it lives; dropping it (the stream ended) stops the
/// beats.
pub struct Presence {
    _stop: oneshot::Sender<()>,
}

async fn beat(db: &impl ConnectionTrait, acceptor_id: &str) -> Result<(), DbErr> {
    acceptor::Entity::update_many()
        .col_expr(acceptor::Column::LiveSeenAt, Expr::value(now_ms()))
        .filter(acceptor::Column::Id.eq(acceptor_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Starts beating for `acceptor_id` until the returned guard is dropped.
pub fn track(state: actix_web::web::Data<AppState>, acceptor_id: String) -> Presence {
    let (stop, mut stopped) = oneshot::channel::<()>();
    let every = beat_every(state.settings.presence_grace_seconds);
    tokio::spawn(async move {
        loop {
            if let Err(err) = beat(&state.db, &acceptor_id).await {
                tracing::warn!(acceptor = %acceptor_id, error = %err, "presence beat failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = &mut stopped => return,
            }
        }
    });
    Presence { _stop: stop }
}

/// Online acceptors whose last beat is older than the grace period.
async fn gone(state: &AppState, now: i64) -> Result<Vec<acceptor::Model>, DbErr> {
    let grace_ms = i64::try_from(state.settings.presence_grace_seconds.saturating_mul(1000))
        .unwrap_or(i64::MAX / 2);
    acceptor::Entity::find()
        .filter(acceptor::Column::Online.eq(true))
        .filter(acceptor::Column::LiveSeenAt.is_not_null())
        .filter(acceptor::Column::LiveSeenAt.lt(now.saturating_sub(grace_ms)))
        .all(&state.db)
        .await
}

/// Takes `a` for this node: clears its beat if nobody beat since it was read.
async fn claim(state: &AppState, a: &acceptor::Model) -> Result<bool, DbErr> {
    let Some(seen) = a.live_seen_at else {
        return Ok(false);
    };
    let result = acceptor::Entity::update_many()
        .col_expr(
            acceptor::Column::LiveSeenAt,
            Expr::value(Option::<i64>::None),
        )
        .filter(acceptor::Column::Id.eq(a.id.clone()))
        .filter(acceptor::Column::LiveSeenAt.eq(seen))
        .exec(&state.db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// One sweep: every acceptor gone past the grace period goes offline.
pub async fn sweep(state: &AppState) -> Result<usize, DbErr> {
    let mut taken = 0;
    for a in gone(state, now_ms()).await? {
        if !claim(state, &a).await? {
            continue;
        }
        match super::service::set_online(state, &a, false).await {
            Ok(_) => {
                tracing::info!(acceptor = %a.id, "offline: the desk has been gone past the grace period");
                taken += 1;
            }
            Err(err) => {
                tracing::warn!(acceptor = %a.id, error = %err, "could not take the acceptor offline")
            }
        }
    }
    Ok(taken)
}

pub fn spawn(
    state: actix_web::web::Data<AppState>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_millis(state.settings.scheduler_interval_ms.max(50))
            .max(Duration::from_secs(1));
        loop {
            if let Err(err) = sweep(&state).await {
                tracing::warn!(error = %err, "presence sweep failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}
