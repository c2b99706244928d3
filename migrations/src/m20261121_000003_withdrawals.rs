//! Merchant withdrawals: one row per request, its review and payout. The money is in
//! the ledger (a pending `merchant → withdrawals` hold of amount + fee, then posted or
//! voided); this table is the state machine and what the merchant asked for.

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
                    .table("withdrawals")
                    .col(string("id").primary_key())
                    .col(string("merchant_id"))
                    .col(boolean("livemode"))
                    .col(string("merchant_withdrawal_id"))
                    .col(string("network"))
                    // Normalized (EIP-55 on EVM networks).
                    .col(string("address"))
                    // Micro-USDT sent on chain, and the network fee charged on top.
                    .col(big_integer("amount"))
                    .col(big_integer("fee"))
                    .col(string("status"))
                    // Hash of the creation parameters (idempotency on
                    // merchant_withdrawal_id).
                    .col(string("params_hash"))
                    .col(string_null("txid"))
                    .col(text_null("reason"))
                    // An admin user id, or `system` for automatic approval.
                    .col(string_null("reviewed_by"))
                    .col(big_integer_null("reviewed_at"))
                    .col(big_integer_null("completed_at"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("withdrawals"), Alias::new("merchant_id"))
                            .to(Alias::new("merchants"), Alias::new("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_withdrawals_merchant_withdrawal_id",
                    "withdrawals",
                    &["merchant_id", "livemode", "merchant_withdrawal_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_withdrawals_merchant",
                "withdrawals",
                &["merchant_id", "livemode", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_withdrawals_status",
                "withdrawals",
                &["status", "id"],
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("withdrawals")).to_owned())
            .await
    }
}
