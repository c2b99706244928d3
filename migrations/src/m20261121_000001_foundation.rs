//! Foundation tables: users, merchants, API keys, acceptors, the double-entry ledger and
//! the audit log.

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
                    .table("users")
                    .col(string("id").primary_key())
                    .col(string_uniq("email"))
                    .col(string("password_hash"))
                    .col(string("role"))
                    .col(string("display_name"))
                    .col(string("status"))
                    .col(boolean("email_verified"))
                    .col(text_null("totp_secret_enc"))
                    .col(boolean("totp_enabled"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("merchants")
                    .col(string("id").primary_key())
                    .col(string_null("user_id"))
                    .col(string("name"))
                    .col(string("email"))
                    .col(string("status"))
                    .col(string("fee_rate"))
                    .col(string_null("default_fiat"))
                    .col(text_null("webhook_url"))
                    .col(text("webhook_secret_enc"))
                    .col(integer("rate_limit_per_minute"))
                    .col(big_integer_null("auto_approve_withdrawals_below"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("merchants"), Alias::new("user_id"))
                            .to(Alias::new("users"), Alias::new("id")),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("api_keys")
                    .col(string("id").primary_key())
                    // Keyed hash (HMAC with a key derived from the master key) of the
                    // public key id: lookups never scan, and a database dump does not
                    // reveal usable key ids.
                    .col(string_uniq("key_id_hash"))
                    .col(string("key_id_prefix"))
                    .col(string("merchant_id"))
                    .col(boolean("livemode"))
                    .col(string("kind"))
                    .col(text_null("secret_enc"))
                    .col(text_null("public_key_pem"))
                    .col(big_integer_null("revoked_at"))
                    .col(big_integer_null("last_used_at"))
                    .col(big_integer("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("api_keys"), Alias::new("merchant_id"))
                            .to(Alias::new("merchants"), Alias::new("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_api_keys_merchant", "api_keys", &["merchant_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("acceptors")
                    .col(string("id").primary_key())
                    .col(string_uniq("user_id"))
                    .col(string("display_name"))
                    .col(string("status"))
                    .col(boolean("online"))
                    .col(string("commission_rate"))
                    .col(integer("max_concurrent_orders"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alias::new("acceptors"), Alias::new("user_id"))
                            .to(Alias::new("users"), Alias::new("id")),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("ledger_accounts")
                    .col(string("id").primary_key())
                    .col(string("code"))
                    .col(string("owner"))
                    .col(boolean("livemode"))
                    .col(integer("flags"))
                    .col(big_integer("debits_pending"))
                    .col(big_integer("debits_posted"))
                    .col(big_integer("credits_pending"))
                    .col(big_integer("credits_posted"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_ledger_accounts_key",
                    "ledger_accounts",
                    &["code", "owner", "livemode"],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("ledger_transfers")
                    .col(string("id").primary_key())
                    .col(string("debit_account_id"))
                    .col(string("credit_account_id"))
                    .col(big_integer("amount"))
                    // A pending transfer is resolved (posted or voided) at most once: the
                    // unique index makes a second resolution impossible even if the
                    // service's own check were bypassed.
                    .col(string_null("pending_id").unique_key())
                    .col(integer("flags"))
                    .col(string("kind"))
                    .col(string("reference"))
                    .col(boolean("livemode"))
                    .col(big_integer("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                Alias::new("ledger_transfers"),
                                Alias::new("debit_account_id"),
                            )
                            .to(Alias::new("ledger_accounts"), Alias::new("id")),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                Alias::new("ledger_transfers"),
                                Alias::new("credit_account_id"),
                            )
                            .to(Alias::new("ledger_accounts"), Alias::new("id")),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_ledger_transfers_debit",
                "ledger_transfers",
                &["debit_account_id", "created_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_ledger_transfers_credit",
                "ledger_transfers",
                &["credit_account_id", "created_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_ledger_transfers_reference",
                "ledger_transfers",
                &["reference"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(string("id").primary_key())
                    .col(string_null("actor_id"))
                    .col(string("actor_role"))
                    .col(string("action"))
                    .col(string("target_type"))
                    .col(string_null("target_id"))
                    .col(text("details"))
                    .col(string_null("ip"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_audit_log_created", "audit_log", &["created_at"]))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "audit_log",
            "ledger_transfers",
            "ledger_accounts",
            "acceptors",
            "api_keys",
            "merchants",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
