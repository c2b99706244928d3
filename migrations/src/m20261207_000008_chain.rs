//! On-chain money in: the watcher's cursor per network, the deposit address book
//! (derived watch-only from each network's extended public key) and the USDT transfers
//! seen to those addresses. Deposits credited by the watcher carry the log index of
//! their transfer, so one transaction with several transfers to our addresses credits
//! each of them once; an admin's manual deposit has `log_index = -1` (the transaction as
//! a whole).

use sea_orm_migration::{prelude::*, schema::*};

use crate::helpers::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("chain_cursors")
                    .col(string("network").primary_key())
                    // The first block not yet taken in.
                    .col(big_integer("next_block"))
                    // The confirmation follower's state (JSON): the recent block hashes
                    // and the transfers in them.
                    .col(text("follower"))
                    .col(big_integer_null("head"))
                    // Bumped by every commit: a scan commits only over the version it
                    // read (two nodes never take the same blocks in twice).
                    .col(big_integer("version"))
                    .col(text_null("halted"))
                    .col(big_integer("updated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("deposit_addresses")
                    .col(string("id").primary_key())
                    .col(string("network"))
                    .col(big_integer("derivation_index"))
                    // 0x + 40 lower-case hex: the 20 bytes logs carry, on every network.
                    .col(string("account"))
                    // As the network writes it (EVM checksum case, TRON base58check).
                    .col(string("address"))
                    .col(string("owner_kind"))
                    .col(string("owner_id"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_deposit_addresses_index",
                &["network", "derivation_index"][..],
            ),
            ("idx_deposit_addresses_account", &["network", "account"][..]),
            (
                "idx_deposit_addresses_owner",
                &["network", "owner_kind", "owner_id"][..],
            ),
        ] {
            manager
                .create_index(
                    index(name, "deposit_addresses", columns)
                        .unique()
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("chain_transfers")
                    .col(string("id").primary_key())
                    .col(string("network"))
                    .col(string("txid"))
                    .col(big_integer("log_index"))
                    .col(big_integer("block_number"))
                    .col(string("block_hash"))
                    .col(string("from_account"))
                    .col(string("address_id"))
                    .col(string("owner_kind"))
                    .col(string("owner_id"))
                    // Token base units, as a decimal string (18-decimal tokens exceed i64).
                    .col(string("value_base"))
                    // Micro-USDT credited (base units rounded down; the rest is dust).
                    .col(big_integer("amount"))
                    .col(string("status"))
                    .col(big_integer("confirmations"))
                    .col(big_integer("required_confirmations"))
                    .col(text_null("review_reason"))
                    .col(string_null("credit_ref"))
                    .col(big_integer("seen_at"))
                    .col(big_integer_null("confirmed_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut fk(
                        "chain_transfers",
                        "address_id",
                        "deposit_addresses",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_chain_transfers_key",
                    "chain_transfers",
                    &["network", "txid", "log_index"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_chain_transfers_owner",
                "chain_transfers",
                &["owner_kind", "owner_id", "seen_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_chain_transfers_status",
                "chain_transfers",
                &["status", "seen_at"],
            ))
            .await?;

        // Deposits: unique per (network, txid, log index) instead of (network, txid).
        manager
            .alter_table(
                Table::alter()
                    .table("deposits")
                    .add_column(big_integer("log_index").default(-1))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_deposits_network_txid")
                    .table("deposits")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_deposits_network_txid_log",
                    "deposits",
                    &["network", "txid", "log_index"],
                )
                .unique()
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_deposits_network_txid_log")
                    .table("deposits")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("deposits")
                    .drop_column("log_index")
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
        for table in ["chain_transfers", "deposit_addresses", "chain_cursors"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
