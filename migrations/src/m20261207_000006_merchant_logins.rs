//! Merchants log in with their contact email: the email becomes unique, so one address
//! names one merchant (and its login user, linked by `merchants.user_id`).

use sea_orm_migration::prelude::*;

use crate::helpers::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                index("idx_merchants_email", "merchants", &["email"])
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_merchants_email")
                    .table(Alias::new("merchants"))
                    .to_owned(),
            )
            .await
    }
}
