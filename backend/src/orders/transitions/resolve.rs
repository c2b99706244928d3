//! `disputed → completed | cancelled`, by an admin: release the whole amount or part of
//! it to the merchant (capturing from the acceptor when the reservation was already
//! voided), or cancel. The dispute row, the audit entry and the acceptor's mail are
//! written in the same transaction.

use matching_engine::Command;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QuerySelect,
};

use super::dispute::mail_acceptor_about_dispute;
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids::DisputeId;
use crate::ledger;
use crate::mail::MailKind;
use crate::orders::dispute::{self, DisputeStatus};
use crate::orders::model::{Actor, OrderStatus, Rail, Settlement};
use crate::orders::settlement::{
    settle_from_custody, settlement_batch, settlement_commands, void_reservation,
};
use crate::orders::store::order;
use crate::orders::transition::{self, Effects, Scope, Step, Transition, lock_order};
use crate::state::AppState;

/// How an admin ends a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Release `amount` (the whole order, or less: a partial release) to the merchant.
    Release {
        amount: i64,
    },
    Cancel,
}

struct Resolve<'a> {
    dispute_id: &'a DisputeId,
    resolution: Resolution,
    note: String,
    admin_id: &'a str,
    /// Locked before the order; resolved in the same transaction.
    dispute: Option<dispute::Model>,
    released: Option<i64>,
}

impl Resolve<'_> {
    fn outcome(&self) -> &'static str {
        match self.resolution {
            Resolution::Release { .. } => "release",
            Resolution::Cancel => "cancel",
        }
    }
}

impl Transition for Resolve<'_> {
    type Output = (order::Model, dispute::Model);
    const KIND: &'static str = "order.dispute_resolved";

    fn actor(&self) -> (Actor, Option<String>) {
        (Actor::Admin, Some(self.admin_id.to_owned()))
    }

    async fn lock(&mut self, txn: &DatabaseTransaction) -> ApiResult<order::Model> {
        let mut query = dispute::Entity::find_by_id(self.dispute_id.clone());
        if db::supports_row_locks(txn) {
            query = query.lock_exclusive();
        }
        let d = query
            .one(txn)
            .await?
            .ok_or_else(|| ApiError::not_found("dispute"))?;
        if d.status != DisputeStatus::Open {
            return Err(ApiError::invalid_state("The dispute is already resolved."));
        }
        let o = lock_order(txn, &d.order_id, Scope::Admin).await?;
        self.dispute = Some(d);
        Ok(o)
    }

    fn target(&self, _o: &order::Model) -> OrderStatus {
        match self.resolution {
            Resolution::Release { .. } => OrderStatus::Completed,
            Resolution::Cancel => OrderStatus::Cancelled,
        }
    }

    fn check(&self, o: &order::Model, _step: &Step<'_>) -> ApiResult<()> {
        if let Resolution::Release { amount } = self.resolution {
            if amount <= 0 || amount > o.amount {
                return Err(ApiError::new(
                    ErrorCode::InvalidAmount,
                    "The amount must be more than zero and at most the order amount.",
                )
                .with_param("amount"));
            }
            if o.acceptor_id.is_none() && o.rail == Rail::Otc {
                return Err(ApiError::invalid_state(
                    "The order has no acceptor to release from.",
                ));
            }
        }
        Ok(())
    }

    async fn write(
        &mut self,
        step: &Step<'_>,
        o: &order::Model,
        active: &mut order::ActiveModel,
        effects: &mut Effects,
    ) -> ApiResult<()> {
        // The reservation is still held when the dispute came from `paid`; an expired
        // order's was voided at expiry.
        let reservation_held = o.paid_at.is_some();
        match (self.resolution, o.acceptor_id.as_ref()) {
            (Resolution::Release { amount }, Some(acceptor_id)) => {
                let (batch, settlement) =
                    settlement_batch(step.txn, o, acceptor_id, amount, reservation_held).await?;
                ledger::apply(step.txn, &batch, step.now)
                    .await
                    .map_err(|e| {
                        if e.is_exceeds_credits() {
                            ApiError::new(
                                ErrorCode::InsufficientBalance,
                                "The acceptor's balance does not cover the release.",
                            )
                        } else {
                            e.into()
                        }
                    })?;
                // The fee actually kept: pro rata for a partial release.
                active.fee = Set(settlement.fee);
                active.completed_at = Set(Some(step.now));
                active.released_amount = Set(Some(settlement.released));
                self.released = Some(settlement.released);
                effects.engine = settlement_commands(o, acceptor_id, &settlement, reservation_held);
            }
            (Resolution::Release { amount }, None) if o.rail == Rail::Onchain => {
                // An on-chain order appealed after expiry (paid late, or underpaid):
                // what the admin releases comes from custody, where the transfers are.
                let settlement = Settlement::compute(o.amount, o.fee, amount, |_| 0);
                settle_from_custody(step.txn, o, &settlement, 0, step.now).await?;
                active.fee = Set(settlement.fee);
                active.completed_at = Set(Some(step.now));
                active.released_amount = Set(Some(settlement.released));
                self.released = Some(settlement.released);
            }
            (Resolution::Release { .. }, None) => {
                return Err(ApiError::invalid_state(
                    "The order has no acceptor to release from.",
                ));
            }
            (Resolution::Cancel, _) => {
                if reservation_held {
                    void_reservation(step.txn, o, step.now).await?;
                    effects.engine = vec![Command::OrderReleased {
                        order: o.id.to_string(),
                    }];
                }
            }
        }
        Ok(())
    }

    async fn write_after(
        &mut self,
        step: &Step<'_>,
        updated: &order::Model,
        _effects: &mut Effects,
    ) -> ApiResult<()> {
        let d = self
            .dispute
            .take()
            .ok_or_else(|| ApiError::internal("the dispute was not locked"))?;
        let mut dactive = d.into_active_model();
        dactive.status = Set(DisputeStatus::Resolved);
        dactive.outcome = Set(Some(self.outcome().to_owned()));
        dactive.released_amount = Set(self.released);
        dactive.resolution_note = Set(Some(self.note.clone()));
        dactive.resolved_by = Set(Some(self.admin_id.to_owned()));
        dactive.resolved_at = Set(Some(step.now));
        let resolved = dactive.update(step.txn).await?;
        crate::audit::record(
            step.txn,
            crate::audit::AuditEntry {
                actor_id: Some(self.admin_id),
                actor_role: "admin",
                action: "dispute.resolve",
                target_type: "dispute",
                target_id: Some(&resolved.id),
                details: serde_json::json!({"order_id": updated.id, "outcome": resolved.outcome, "released_amount": self.released}),
                ip: None,
            },
        )
        .await?;
        // Last: a failure here must take the audit entry with it (one transaction).
        let outcome_key = match self.resolution {
            Resolution::Release { .. } => "mail.outcome_release",
            Resolution::Cancel => "mail.outcome_cancel",
        };
        mail_acceptor_about_dispute(
            step.txn,
            step.state,
            updated,
            MailKind::DisputeResolved,
            Some(outcome_key),
        )
        .await?;
        self.dispute = Some(resolved);
        Ok(())
    }

    fn note(&self) -> Option<String> {
        Some(self.note.clone())
    }

    async fn answer(self, _state: &AppState, updated: order::Model) -> ApiResult<Self::Output> {
        let resolved = self
            .dispute
            .ok_or_else(|| ApiError::internal("the dispute was not resolved"))?;
        Ok((updated, resolved))
    }
}

/// Resolves an open dispute, by an admin.
pub async fn resolve_dispute(
    state: &AppState,
    dispute_id: &DisputeId,
    resolution: Resolution,
    note: String,
    admin_id: &str,
) -> ApiResult<(order::Model, dispute::Model)> {
    let t = Resolve {
        dispute_id,
        resolution,
        note,
        admin_id,
        dispute: None,
        released: None,
    };
    transition::changed(transition::run(state, t).await?)
}
