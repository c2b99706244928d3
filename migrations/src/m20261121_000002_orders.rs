//! The order lifecycle: acceptor quotes and payment methods, deposits, orders and their
//! history, disputes, and the webhook outbox with its delivery log.

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("acceptor_quotes")
                    .col(string("id").primary_key())
                    .col(string("acceptor_id"))
                    .col(string("fiat"))
                    .col(string("rate"))
                    .col(big_integer("min_amount"))
                    .col(big_integer("max_amount"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut fk("acceptor_quotes", "acceptor_id", "acceptors"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_quotes_acceptor_fiat",
                    "acceptor_quotes",
                    &["acceptor_id", "fiat"],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("acceptor_payment_methods")
                    .col(string("id").primary_key())
                    .col(string("acceptor_id"))
                    .col(string("fiat"))
                    .col(string("method"))
                    .col(text("details"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk(
                        "acceptor_payment_methods",
                        "acceptor_id",
                        "acceptors",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_payment_methods_acceptor",
                "acceptor_payment_methods",
                &["acceptor_id", "fiat"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("deposits")
                    .col(string("id").primary_key())
                    .col(string("acceptor_id"))
                    .col(string("network"))
                    .col(string("txid"))
                    .col(big_integer("amount"))
                    .col(text_null("note"))
                    .col(string("transfer_id"))
                    .col(string_null("created_by"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk("deposits", "acceptor_id", "acceptors"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_deposits_network_txid",
                    "deposits",
                    &["network", "txid"],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("orders")
                    .col(string("id").primary_key())
                    .col(string("merchant_id"))
                    .col(boolean("livemode"))
                    .col(string("merchant_order_id"))
                    .col(string("status"))
                    .col(big_integer("amount"))
                    .col(big_integer("fee"))
                    .col(string("fiat_currency"))
                    .col(big_integer_null("fiat_amount"))
                    .col(string_null("rate"))
                    .col(string_null("payment_method"))
                    .col(text_null("payment_details"))
                    .col(string("reference"))
                    .col(string_null("acceptor_id"))
                    .col(text_null("callback_url"))
                    .col(text_null("return_url"))
                    .col(integer("expires_in"))
                    .col(text_null("metadata"))
                    .col(string_uniq("cashier_token"))
                    // Hash of the creation parameters: a replay with the same
                    // merchant_order_id is compared by it (idempotency).
                    .col(string("params_hash"))
                    // JSON array of acceptor ids that rejected this order.
                    .col(text("excluded_acceptors"))
                    // Increments on every assignment: names the ledger reservation.
                    .col(integer("assignment_seq"))
                    .col(big_integer_null("released_amount"))
                    .col(string_null("payer_name"))
                    .col(big_integer("expires_at"))
                    .col(big_integer_null("match_deadline"))
                    .col(big_integer_null("release_deadline"))
                    .col(big_integer_null("appeal_deadline"))
                    // The earliest deadline that applies in the current status; the
                    // scheduler claims rows by it.
                    .col(big_integer_null("next_deadline"))
                    .col(big_integer_null("assigned_at"))
                    .col(big_integer_null("paid_at"))
                    .col(big_integer_null("completed_at"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut fk("orders", "merchant_id", "merchants"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_orders_merchant_order_id",
                    "orders",
                    &["merchant_id", "livemode", "merchant_order_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_orders_next_deadline",
                "orders",
                &["next_deadline"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_orders_acceptor",
                "orders",
                &["acceptor_id", "status"],
            ))
            .await?;
        manager
            .create_index(index("idx_orders_status", "orders", &["status"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("order_events")
                    .col(string("id").primary_key())
                    .col(string("order_id"))
                    .col(string("kind"))
                    .col(string_null("from_status"))
                    .col(string("to_status"))
                    .col(string("actor"))
                    .col(string_null("actor_id"))
                    .col(text_null("note"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk("order_events", "order_id", "orders"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_order_events_order",
                "order_events",
                &["order_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("disputes")
                    .col(string("id").primary_key())
                    .col(string("order_id"))
                    .col(string("merchant_id"))
                    .col(string_null("acceptor_id"))
                    .col(boolean("livemode"))
                    .col(string("status"))
                    .col(string("opened_by"))
                    .col(text("reason"))
                    .col(text_null("contact"))
                    .col(string_null("outcome"))
                    .col(big_integer_null("released_amount"))
                    .col(text_null("resolution_note"))
                    .col(string_null("resolved_by"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("resolved_at"))
                    .foreign_key(&mut fk("disputes", "order_id", "orders"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_disputes_order", "disputes", &["order_id"]))
            .await?;
        manager
            .create_index(index("idx_disputes_status", "disputes", &["status"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("dispute_messages")
                    .col(string("id").primary_key())
                    .col(string("dispute_id"))
                    .col(string("author_role"))
                    .col(string_null("author_id"))
                    .col(text("body"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk("dispute_messages", "dispute_id", "disputes"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_dispute_messages_dispute",
                "dispute_messages",
                &["dispute_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("webhook_events")
                    .col(string("id").primary_key())
                    .col(string("merchant_id"))
                    .col(boolean("livemode"))
                    .col(string("event_type"))
                    // The exact JSON body that is signed and sent.
                    .col(text("payload"))
                    // The order's callback_url, when it overrides the merchant endpoint.
                    .col(text_null("target_url"))
                    .col(string("status"))
                    .col(integer("attempts"))
                    .col(big_integer_null("next_attempt_at"))
                    .col(big_integer_null("last_attempt_at"))
                    .col(big_integer_null("delivered_at"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk("webhook_events", "merchant_id", "merchants"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_webhook_events_due",
                "webhook_events",
                &["status", "next_attempt_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_webhook_events_merchant",
                "webhook_events",
                &["merchant_id", "livemode"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("webhook_deliveries")
                    .col(string("id").primary_key())
                    .col(string("event_id"))
                    .col(string("merchant_id"))
                    .col(boolean("livemode"))
                    .col(text("url"))
                    .col(integer("attempt"))
                    .col(boolean("success"))
                    .col(integer_null("status_code"))
                    .col(text_null("error"))
                    .col(text_null("response_excerpt"))
                    .col(big_integer("duration_ms"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk("webhook_deliveries", "event_id", "webhook_events"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_webhook_deliveries_event",
                "webhook_deliveries",
                &["event_id"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_webhook_deliveries_merchant",
                "webhook_deliveries",
                &["merchant_id", "livemode"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "webhook_deliveries",
            "webhook_events",
            "dispute_messages",
            "disputes",
            "order_events",
            "orders",
            "deposits",
            "acceptor_payment_methods",
            "acceptor_quotes",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
