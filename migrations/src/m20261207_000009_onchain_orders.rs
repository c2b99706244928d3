//! Direct on-chain payment orders: an order's rail (`otc`, the default, or `onchain`),
//! its network, and what the chain said of its payment (the last transaction, the USDT
//! received, its confirmations).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for column in [
            string("rail").default("otc").to_owned(),
            string_null("network").to_owned(),
            string_null("txid").to_owned(),
            big_integer_null("paid_amount").to_owned(),
            big_integer_null("confirmations").to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table("orders").add_column(column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["confirmations", "paid_amount", "txid", "network", "rail"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("orders")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
