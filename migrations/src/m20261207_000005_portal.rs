//! The portal's accounts and mail: single-use tokens of verification and reset links
//! (stored as keyed hashes), the mail outbox (written in the transaction of the change
//! that sends it), and the acceptor's presence and mail preference.

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
                    .table("auth_tokens")
                    .col(string("id").primary_key())
                    .col(string("user_id"))
                    // `verify_email`, `reset_password`, `set_password`.
                    .col(string("purpose"))
                    // Keyed hash of the token; the token itself is only in the mail.
                    .col(string_uniq("token_hash"))
                    .col(big_integer("expires_at"))
                    .col(big_integer_null("used_at"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk("auth_tokens", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("mail_outbox")
                    .col(string("id").primary_key())
                    .col(string("to_address"))
                    .col(string("kind"))
                    .col(string("subject"))
                    .col(text("text_body"))
                    .col(text("html_body"))
                    // `pending`, `sent`, `failed` (gave up after the last retry).
                    .col(string("status"))
                    .col(integer("attempts"))
                    .col(big_integer_null("next_attempt_at"))
                    .col(text_null("last_error"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("sent_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_mail_outbox_due",
                "mail_outbox",
                &["status", "next_attempt_at"],
            ))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    // The language of the user's mail (`en`, `zh-CN`).
                    .add_column(string("lang").default("en"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("acceptors")
                    // The last heartbeat of the acceptor's live connection (the desk);
                    // null when none is open.
                    .add_column(big_integer_null("live_seen_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("acceptors")
                    .add_column(boolean("notify_new_orders").default(false))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["notify_new_orders", "live_seen_at"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("acceptors")
                        .drop_column(Alias::new(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .drop_column(Alias::new("lang"))
                    .to_owned(),
            )
            .await?;
        for table in ["mail_outbox", "auth_tokens"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
