//! What assigning an order writes, beside the writer that writes most assignments: the
//! order's assignment fields, the reservation of its amount on the acceptor (a ledger
//! batch applied last in the transaction), its `order.assigned` history row and webhook,
//! and the acceptors' "new order" mail. Nothing here commits or announces.

use matching_engine::Event;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, IntoActiveModel};

use super::handle::EngineAssignment;
use crate::acceptor_directory;
use crate::error::ApiResult;
use crate::ids::AcceptorId;
use crate::ledger::{self, AccountKey, TransferRequest};
use crate::money::Rate;
use crate::orders::announce::{history_row, webhook_row};
use crate::orders::model::{Actor, OrderStatus, transfer_ids};
use crate::orders::settlement::escrow_of;
use crate::orders::side::{self, AcceptorSide};
use crate::orders::store::{order, order_event};
use crate::orders::transition::check_transition;
use crate::webhooks;

/// The engine's assignment of `order_id` among `events`, if it made one.
pub fn assignment_of(events: &[Event], order_id: &str) -> Option<EngineAssignment> {
    // The engine's ids are ours, given to it as text; one that does not read back is
    // not an assignment this order can take.
    events.iter().find_map(|e| match e {
        Event::Assigned {
            order,
            acceptor,
            rate,
            fiat_amount,
        } if order == order_id => Some(EngineAssignment {
            acceptor: AcceptorId::parse(acceptor)?,
            rate: Rate::from_decimal(*rate),
            fiat_amount: *fiat_amount,
        }),
        _ => None,
    })
}

/// The ledger half of an assignment. Callers apply it last in their transaction: its
/// account row locks are then held only until the commit, which matters for the
/// best-rate acceptors that take most orders.
#[derive(Default)]
pub struct Reservation {
    accounts: Vec<AccountKey>,
    batch: Vec<TransferRequest>,
}

impl Reservation {
    /// Adds another order's reservation: one ledger batch for several orders.
    pub fn absorb(&mut self, other: Reservation) {
        self.accounts.extend(other.accounts);
        self.batch.extend(other.batch);
    }

    /// Leaves out of the "open if missing" step the accounts `known` to exist; returns
    /// the ids of those left in.
    pub fn forget_accounts(&mut self, known: impl Fn(&str) -> bool) -> Vec<String> {
        self.accounts.retain(|key| !known(&key.id()));
        self.accounts.iter().map(AccountKey::id).collect()
    }

    pub async fn apply(self, txn: &DatabaseTransaction, now: i64) -> ApiResult<()> {
        ledger::open_accounts(txn, &self.accounts).await?;
        ledger::apply(txn, &self.batch, now).await?;
        Ok(())
    }

    /// [`Self::apply`] for the reservations of orders inserted in this transaction: their
    /// transfer ids are derived from the new order ids, so no lookup is needed
    /// (`ledger::apply_new`).
    pub async fn apply_to_new_orders(self, txn: &DatabaseTransaction, now: i64) -> ApiResult<()> {
        ledger::open_accounts(txn, &self.accounts).await?;
        ledger::apply_new(txn, &self.batch, now).await?;
        Ok(())
    }
}

/// The order with its assignment fields set (not yet written) and the reservation of
/// its amount on the acceptor (not yet applied). `methods` holds at least the assigned
/// acceptor's payment methods (see [`acceptor_directory::payment_methods_of_acceptors`]).
/// The order must be `matching`.
pub fn assigned_fields(
    o: order::Model,
    assignment: &EngineAssignment,
    methods: &[crate::acceptor_directory::payment_method::Model],
    now: i64,
) -> ApiResult<(order::ActiveModel, Reservation)> {
    check_transition(&o, Actor::System, OrderStatus::Assigned)?;
    let side = AcceptorSide::of(&o);
    let method = acceptor_directory::choose_payment_method(
        methods,
        &assignment.acceptor,
        &o.fiat_currency,
        o.payment_method.as_deref(),
    );
    let (method_name, details) = match method {
        Some(m) => (
            Some(m.method.clone()),
            Some(side::method_details(m, &o.reference)?),
        ),
        None => side.default_payment(&o),
    };
    let seq = o.assignment_seq + 1;
    let acceptor = AccountKey::acceptor(assignment.acceptor.clone(), o.livemode);
    let escrow = escrow_of(&assignment.acceptor, o.livemode);
    let mut reservation = Reservation {
        accounts: vec![acceptor.clone(), escrow.clone()],
        batch: Vec::with_capacity(2),
    };
    if let Some((source, funding)) = side.funding(&o) {
        reservation.accounts.push(source);
        reservation.batch.push(funding);
    }
    reservation.batch.push(
        TransferRequest::pending(
            transfer_ids::reserve(&o.id, seq),
            acceptor,
            escrow,
            o.amount,
        )
        .with_kind("order_reserve")
        .with_reference(o.id.clone()),
    );
    let mut active = o.into_active_model();
    active.status = Set(OrderStatus::Assigned);
    active.acceptor_id = Set(Some(assignment.acceptor.clone()));
    active.rate = Set(Some(assignment.rate.to_string()));
    active.fiat_amount = Set(Some(assignment.fiat_amount));
    active.payment_method = Set(method_name);
    active.payment_details = Set(details);
    active.assignment_seq = Set(seq);
    active.assigned_at = Set(Some(now));
    Ok((active, reservation))
}

/// The `order.assigned` history row and webhook of an assigned order, as rows for a
/// multi-row insert; `view` is the order's `announce::event_view`.
pub fn assignment_rows(
    assigned: &order::Model,
    view: serde_json::Value,
) -> (order_event::ActiveModel, webhooks::event::ActiveModel) {
    let history = history_row(
        &assigned.id,
        "order.assigned",
        Some(OrderStatus::Matching),
        OrderStatus::Assigned,
        (Actor::System, None),
        None,
    );
    (history, webhook_row(assigned, "order.assigned", view))
}

/// The "new order" mail of each of `orders` whose acceptor (one of `acceptor_ids`)
/// asked for one, in the caller's transaction. One query when nobody asked.
pub async fn mail_new_orders<'o>(
    txn: &DatabaseTransaction,
    public_url: &str,
    acceptor_ids: &[AcceptorId],
    orders: impl Iterator<Item = &'o order::Model>,
) -> ApiResult<()> {
    let recipients = acceptor_directory::new_order_mail_recipients(txn, acceptor_ids).await?;
    if recipients.is_empty() {
        return Ok(());
    }
    let letters: Vec<crate::mail::Letter<'_>> = orders
        .filter_map(|o| {
            let to = recipients
                .iter()
                .find(|r| o.acceptor_id.as_deref() == Some(r.acceptor_id.as_str()))?;
            let fiat = crate::orders::view::fiat_amount_of(o).unwrap_or_default();
            Some(crate::mail::Letter {
                kind: crate::mail::MailKind::NewOrder,
                tr: crate::i18n::Tr(crate::i18n::Lang::parse(&to.lang).unwrap_or_default()),
                to: &to.email,
                name: &to.display_name,
                link: Some(format!("{public_url}/acceptor/orders/{}", o.id)),
                args: vec![
                    ("reference", o.reference.clone()),
                    ("amount", crate::money::format_usdt(o.amount)),
                    ("fiat_amount", format!("{fiat} {}", o.fiat_currency)),
                ],
                keyed_args: Vec::new(),
            })
        })
        .collect();
    crate::mail::service::enqueue_all(txn, &letters).await
}
