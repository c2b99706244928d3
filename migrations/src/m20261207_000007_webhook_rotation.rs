//! Webhook secret rotation: the merchant's previous `whsec_…` secret (sealed with the
//! master key) stays valid until `webhook_secret_prev_expires_at`, so that deliveries in
//! the overlap window carry a signature with the old secret and one with the new.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("merchants")
                    .add_column(text_null("webhook_secret_prev_enc"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("merchants")
                    .add_column(big_integer_null("webhook_secret_prev_expires_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("merchants")
                    .drop_column("webhook_secret_prev_expires_at")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("merchants")
                    .drop_column("webhook_secret_prev_enc")
                    .to_owned(),
            )
            .await
    }
}
