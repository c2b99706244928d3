//! Portal sessions: one row per login. The session token (a JWT) names its row, and
//! every authenticated request checks it, so that logging out revokes the token at once
//! and a session records whether it passed the second factor.

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
                    .table("sessions")
                    .col(string("id").primary_key())
                    .col(string("user_id"))
                    .col(string("role"))
                    // True when the login (or the enabling of 2FA in this session)
                    // checked a TOTP code.
                    .col(boolean("second_factor"))
                    .col(big_integer("created_at"))
                    .col(big_integer("expires_at"))
                    .col(big_integer_null("revoked_at"))
                    .foreign_key(&mut fk("sessions", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_sessions_user", "sessions", &["user_id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alias::new("sessions")).to_owned())
            .await
    }
}
