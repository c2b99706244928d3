//! An order's money in the ledger after its assignment: the ledger batch that releases
//! it to the merchant (and splits the fee), the void of its reservation, the engine
//! commands that follow a settlement, and the ledger invariant of the order flow. The
//! batches are applied by the transitions, in their transaction; nothing here commits.

use matching_engine::Command;
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use super::model::{Settlement, transfer_ids};
use super::side::AcceptorSide;
use super::store::order;
use crate::error::ApiResult;
use crate::ids::AcceptorId;
use crate::ledger::{self, AccountCode, AccountKey, TransferRequest};

/// The escrow account of an acceptor's reservations. Escrow is partitioned per acceptor
/// so that concurrent reservations with different acceptors never wait on one hot row.
pub fn escrow_of(acceptor_id: &AcceptorId, livemode: bool) -> AccountKey {
    AccountKey::new(AccountCode::Escrow, acceptor_id, livemode)
}

/// The ledger batch that releases `released` micro-USDT of an order to the merchant:
/// post the reservation (or capture from the acceptor when it was already voided), then
/// split escrow into merchant credit, platform revenue and acceptor commission.
pub async fn settlement_batch(
    txn: &DatabaseTransaction,
    o: &order::Model,
    acceptor_id: &AcceptorId,
    released: i64,
    reservation_held: bool,
) -> ApiResult<(Vec<TransferRequest>, Settlement)> {
    let commission_rate = AcceptorSide::of(o)
        .commission_rate(txn, acceptor_id)
        .await?;
    let settlement = Settlement::compute(o.amount, o.fee, released, |r| {
        commission_rate.apply_to_micros(r)
    });
    let live = o.livemode;
    let escrow = escrow_of(acceptor_id, live);
    let acceptor_key = AccountKey::acceptor(acceptor_id.to_owned(), live);
    let merchant = AccountKey::merchant(o.merchant_id.clone(), live);
    ledger::open_accounts(
        txn,
        &[
            merchant.clone(),
            AccountKey::revenue(live),
            escrow.clone(),
            acceptor_key.clone(),
        ],
    )
    .await?;
    let reference = || o.id.clone();
    let mut batch = Vec::with_capacity(4);
    batch.push(if reservation_held {
        let seq = o.assignment_seq;
        let partial = (released < o.amount).then_some(released);
        TransferRequest::post_pending(
            transfer_ids::post(&o.id, seq),
            transfer_ids::reserve(&o.id, seq),
            partial,
        )
        .with_kind("order_release")
        .with_reference(reference())
    } else {
        TransferRequest::posted(
            transfer_ids::capture(&o.id),
            acceptor_key.clone(),
            escrow.clone(),
            released,
        )
        .with_kind("order_capture")
        .with_reference(reference())
    });
    let splits = [
        (
            transfer_ids::credit(&o.id),
            merchant,
            settlement.net,
            "order_credit",
        ),
        (
            transfer_ids::fee(&o.id),
            AccountKey::revenue(live),
            settlement.revenue,
            "order_fee",
        ),
        (
            transfer_ids::commission(&o.id),
            acceptor_key,
            settlement.commission,
            "order_commission",
        ),
    ];
    for (id, to, amount, kind) in splits {
        if amount > 0 {
            batch.push(
                TransferRequest::posted(id, escrow.clone(), to, amount)
                    .with_kind(kind)
                    .with_reference(reference()),
            );
        }
    }
    Ok((batch, settlement))
}

/// Settles an on-chain order in the transaction: its USDT sits at an address of the
/// platform's key (custody), so the merchant's credit (`{order}:credit`), the fee
/// (`{order}:fee`) and anything received beyond the amount (`{order}:excess`) are
/// posted from custody. No acceptor takes part.
pub async fn settle_from_custody(
    txn: &DatabaseTransaction,
    o: &order::Model,
    settlement: &Settlement,
    excess: i64,
    now: i64,
) -> ApiResult<()> {
    let custody = AccountKey::custody(true);
    let merchant = AccountKey::merchant(o.merchant_id.clone(), true);
    let revenue = AccountKey::revenue(true);
    ledger::open_accounts(txn, &[custody.clone(), merchant.clone(), revenue.clone()]).await?;
    let batch: Vec<TransferRequest> = [
        (
            transfer_ids::credit(&o.id),
            &merchant,
            settlement.net,
            "order_credit",
        ),
        (
            transfer_ids::fee(&o.id),
            &revenue,
            settlement.revenue,
            "order_fee",
        ),
        (
            transfer_ids::excess(&o.id),
            &merchant,
            excess,
            "order_excess",
        ),
    ]
    .into_iter()
    .filter(|(_, _, amount, _)| *amount > 0)
    .map(|(id, to, amount, kind)| {
        TransferRequest::posted(id, custody.clone(), to.clone(), amount)
            .with_kind(kind)
            .with_reference(o.id.clone())
    })
    .collect();
    ledger::apply(txn, &batch, now).await?;
    Ok(())
}

/// Engine commands after a settlement: the released amount leaves the acceptor's
/// liquidity (or was captured outside the engine), and the commission comes back.
/// (The runner drops them for a sandbox order.)
pub fn settlement_commands(
    o: &order::Model,
    acceptor_id: &AcceptorId,
    s: &Settlement,
    reservation_held: bool,
) -> Vec<Command> {
    let mut commands = Vec::with_capacity(2);
    if reservation_held {
        commands.push(Command::OrderSettled {
            order: o.id.to_string(),
            released_amount: s.released,
        });
    } else {
        commands.push(Command::AdjustLiquidity {
            acceptor: acceptor_id.to_string(),
            delta: -s.released,
        });
    }
    if s.commission > 0 {
        commands.push(Command::AdjustLiquidity {
            acceptor: acceptor_id.to_string(),
            delta: s.commission,
        });
    }
    commands
}

/// Voids an order's live reservation in the transaction (none before an assignment).
pub async fn void_reservation(
    txn: &DatabaseTransaction,
    o: &order::Model,
    now: i64,
) -> ApiResult<()> {
    if o.acceptor_id.is_none() || o.assignment_seq == 0 {
        return Ok(());
    }
    let seq = o.assignment_seq;
    ledger::apply(
        txn,
        &[TransferRequest::void_pending(
            transfer_ids::void(&o.id, seq),
            transfer_ids::reserve(&o.id, seq),
        )
        .with_kind("order_void")
        .with_reference(o.id.clone())],
        now,
    )
    .await?;
    Ok(())
}

/// Ledger invariant of the order flow: every completed order is credited exactly once,
/// with `released − fee`, and nothing else is credited as an order. Added to the ledger
/// check by `ops::audit`.
pub async fn check_credited_once(
    conn: &impl ConnectionTrait,
) -> Result<Vec<ledger::Violation>, sea_orm::DbErr> {
    use sea_orm::Statement;
    let backend = conn.get_database_backend();
    let queries = [
        (
            "order_not_credited",
            "SELECT o.id AS id FROM orders o WHERE o.status = 'completed' \
             AND COALESCE(o.released_amount, o.amount) - o.fee > 0 \
             AND NOT EXISTS (SELECT 1 FROM ledger_transfers t WHERE t.id = o.id || ':credit') LIMIT 1000",
        ),
        (
            "order_credit_mismatch",
            "SELECT o.id AS id FROM orders o JOIN ledger_transfers t ON t.id = o.id || ':credit' \
             WHERE t.amount <> COALESCE(o.released_amount, o.amount) - o.fee LIMIT 1000",
        ),
        (
            "credit_without_completed_order",
            "SELECT t.reference AS id FROM ledger_transfers t WHERE t.kind = 'order_credit' \
             AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = t.reference AND o.status = 'completed') LIMIT 1000",
        ),
        (
            "order_credited_twice",
            "SELECT t.reference AS id FROM ledger_transfers t WHERE t.kind = 'order_credit' \
             GROUP BY t.reference HAVING COUNT(*) > 1 LIMIT 1000",
        ),
    ];
    let mut violations = Vec::new();
    for (kind, sql) in queries {
        for row in conn
            .query_all_raw(Statement::from_string(backend, sql))
            .await?
        {
            let id: String = row.try_get("", "id")?;
            violations.push(ledger::Violation {
                kind: kind.to_owned(),
                account: None,
                transfer: None,
                detail: format!("order {id}"),
            });
        }
    }
    Ok(violations)
}
