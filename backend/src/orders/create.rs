//! Order creation, on a straight path: parse (`request.rs`) → the engine picks the
//! acceptor (the sandbox takes every test order) → the writer inserts the order already
//! assigned, in a group commit (`writer/`) → after the commit, the announcement. A
//! batch that failed as a whole is written again for this order alone; a failure then
//! makes the engine forget the order. Nothing here adds a database round trip before
//! the engine: a retried `merchant_order_id` is recognised by the insert itself.

use matching_engine::{Command, NewOrder};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::announce::announce;
use super::deadlines::deadline_after;
use super::matching::resync_acceptor_liquidity;
use super::model::{OrderStatus, Rail};
use super::request::OrderParams;
use super::side::AcceptorSide;
use super::store::order;
use super::writer::{self, EngineAssignment, OrderWriter, Unbatched, assignment::assignment_of};
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::ids;
use crate::ids::OrderId;
use crate::money::Rate;
use crate::state::AppState;

/// The outcome of `POST /api/v1/orders`.
pub struct Created {
    pub order: order::Model,
    /// True when `merchant_order_id` was seen before with the same parameters.
    pub replayed: bool,
}

/// Creates an order and, for live orders, matches it at once: the engine picks the
/// acceptor first, then the order row, its reservation, its history and its
/// `order.assigned` webhook are written in one transaction. If the transaction fails the
/// engine is told to forget the order. A `merchant_order_id` the merchant used before is
/// recognised by that write (its insert is skipped, nothing of the new order is
/// written): the engine forgets its match and the earlier order is the answer.
pub async fn create(
    state: &AppState,
    merchant: &crate::merchants::merchant::Model,
    livemode: bool,
    params: OrderParams,
) -> ApiResult<Created> {
    let side = AcceptorSide::of_mode(livemode);
    let fingerprint = params.fingerprint();
    let row = new_row(state, merchant, livemode, &params, fingerprint.clone())?;
    let assignment = match side.fixed_assignment(params.fiat, row.amount) {
        Some(fixed) => Some(fixed),
        None => match_in_engine(state, &row).await?,
    };
    let written = match &assignment {
        Some(a) => match OrderWriter::of(state)?.write(row.clone(), a.clone()).await {
            Ok(written) => Ok(written),
            // Its batch failed as a whole: alone, the order meets its own error (or none).
            Err(Unbatched) => write_alone(state, &row, Some(a)).await,
        },
        None => write_alone(state, &row, None).await,
    };
    let failure = match written {
        Ok(Some(order)) => {
            return Ok(Created {
                order,
                replayed: false,
            });
        }
        Ok(None) => merchant_order_id_taken(),
        Err(err) => err,
    };
    if side == AcceptorSide::Real {
        forget_in_engine(state, &row.id).await;
        // The ledger may have refused what the engine believed possible.
        if let (Some(a), false) = (
            &assignment,
            failure.code == ErrorCode::DuplicateMerchantOrderId,
        ) {
            resync_acceptor_liquidity(state, &a.acceptor).await;
        }
    }
    // A retry, or a concurrent request with the same merchant_order_id that won the
    // insert: answered with that order.
    let existing =
        find_by_merchant_order_id(&state.db, &merchant.id, livemode, &params.merchant_order_id)
            .await?;
    match existing {
        Some(existing) => replay_of(existing, &fingerprint),
        None => Err(failure),
    }
}

/// The merchant's fee on `amount` micro-USDT, at its stored fee rate.
pub(super) fn fee_of(merchant: &crate::merchants::merchant::Model, amount: i64) -> ApiResult<i64> {
    let fee_rate = Rate::parse_fraction(&merchant.fee_rate).map_err(|err| {
        tracing::error!(merchant = %merchant.id, error = %err, "unreadable stored fee rate");
        ApiError::internal(err)
    })?;
    Ok(fee_rate.apply_to_micros(amount))
}

/// The new order's row, still `matching`.
fn new_row(
    state: &AppState,
    merchant: &crate::merchants::merchant::Model,
    livemode: bool,
    params: &OrderParams,
    fingerprint: String,
) -> ApiResult<order::Model> {
    let fee = fee_of(merchant, params.amount.micros())?;
    let now = now_ms();
    let expires_at = deadline_after(now, u64::from(params.expires_in.seconds()));
    let match_deadline = deadline_after(now, state.settings.match_timeout_seconds).min(expires_at);
    let side = AcceptorSide::of_mode(livemode);
    Ok(order::Model {
        id: OrderId::generate(),
        merchant_id: merchant.id.clone(),
        livemode,
        merchant_order_id: params.merchant_order_id.clone(),
        status: OrderStatus::Matching,
        amount: params.amount.micros(),
        fee,
        fiat_currency: params.fiat.code.to_owned(),
        fiat_amount: None,
        rate: None,
        payment_method: params
            .payment_method
            .as_ref()
            .map(|m| m.as_str().to_owned()),
        payment_details: None,
        reference: payment_reference(),
        acceptor_id: None,
        callback_url: params.callback_url.as_ref().map(|u| u.as_str().to_owned()),
        return_url: params.return_url.as_ref().map(|u| u.as_str().to_owned()),
        expires_in: i32::try_from(params.expires_in.seconds()).map_err(ApiError::internal)?,
        metadata: params.metadata.as_ref().map(|raw| raw.get().to_owned()),
        cashier_token: ids::random_hex(24),
        params_hash: fingerprint,
        excluded_acceptors: "[]".to_owned(),
        assignment_seq: 0,
        released_amount: None,
        payer_name: None,
        expires_at,
        match_deadline: Some(match_deadline),
        // An acceptor that confirms by itself (the sandbox) does so at this time.
        release_deadline: side
            .confirms_by_itself()
            .then(|| deadline_after(now, state.settings.sandbox_confirm_after)),
        appeal_deadline: None,
        next_deadline: Some(match_deadline),
        assigned_at: None,
        paid_at: None,
        completed_at: None,
        created_at: now,
        updated_at: now,
        rail: Rail::Otc,
        network: None,
        txid: None,
        paid_amount: None,
        confirmations: None,
    })
}

/// Submits the new order to the engine: its assignment, if an acceptor was free.
async fn match_in_engine(
    state: &AppState,
    row: &order::Model,
) -> ApiResult<Option<EngineAssignment>> {
    let submitted = NewOrder {
        id: row.id.to_string(),
        fiat: row.fiat_currency.clone(),
        amount: row.amount,
        payment_method: row.payment_method.clone(),
        excluded_acceptors: Vec::new(),
        match_deadline: row.match_deadline.unwrap_or(row.expires_at),
    };
    let events = state
        .engine
        .apply(Command::SubmitOrder(submitted))
        .await
        .map_err(|e| match e {
            crate::engine::EngineFailure::Refused(
                matching_engine::EngineError::InvalidAmount { .. },
            ) => ApiError::new(
                ErrorCode::InvalidAmount,
                "The amount is larger than an order may be.",
            )
            .with_param("amount"),
            other => ApiError::internal(other),
        })?;
    Ok(assignment_of(&events, &row.id))
}

/// Writes the order on its own and announces it when it is assigned.
async fn write_alone(
    state: &AppState,
    row: &order::Model,
    assignment: Option<&EngineAssignment>,
) -> ApiResult<Option<order::Model>> {
    let written = writer::insert_alone(
        &state.db,
        &state.public_url,
        row.clone(),
        assignment,
        now_ms(),
    )
    .await?;
    if let Some(created) = &written
        && created.status == OrderStatus::Assigned
    {
        announce(state, created, "order.assigned").await;
    }
    Ok(written)
}

async fn forget_in_engine(state: &AppState, order_id: &OrderId) {
    let command = Command::Cancel {
        order: order_id.to_string(),
    };
    if let Err(e) = state.engine.apply(command).await {
        tracing::warn!(order = %order_id, error = %e, "engine did not forget a failed order");
    }
}

pub(super) async fn find_by_merchant_order_id(
    conn: &impl ConnectionTrait,
    merchant_id: &str,
    livemode: bool,
    merchant_order_id: &str,
) -> ApiResult<Option<order::Model>> {
    Ok(order::Entity::find()
        .filter(order::Column::MerchantId.eq(merchant_id))
        .filter(order::Column::Livemode.eq(livemode))
        .filter(order::Column::MerchantOrderId.eq(merchant_order_id))
        .one(conn)
        .await?)
}

/// A short code the customer writes in the transfer memo (no 0/O/1/I confusion).
pub(super) fn payment_reference() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
    ids::random_bytes(6)
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// The insert of a new order found its `merchant_order_id` taken; `create` then answers
/// with the order that holds it ([`replay_of`]).
fn merchant_order_id_taken() -> ApiError {
    ApiError::new(
        ErrorCode::DuplicateMerchantOrderId,
        "An order with this merchant_order_id exists.",
    )
    .with_param("merchant_order_id")
}

pub(super) fn replay_of(existing: order::Model, fingerprint: &str) -> ApiResult<Created> {
    if existing.params_hash == fingerprint {
        Ok(Created {
            order: existing,
            replayed: true,
        })
    } else {
        Err(ApiError::new(
            ErrorCode::DuplicateMerchantOrderId,
            "An order with this merchant_order_id exists with different parameters.",
        )
        .with_param("merchant_order_id"))
    }
}
