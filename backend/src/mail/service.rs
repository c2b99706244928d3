//! Writing a mail to the outbox, inside the caller's transaction.

use sea_orm::ConnectionTrait;

use super::model::Letter;
use super::store;
use crate::db::now_ms;
use crate::error::{ApiError, ApiResult};
use crate::ids;

/// Renders `letter` and writes it to the outbox with the caller's transaction: it is
/// sent if and only if the change it tells about commits.
pub async fn enqueue(db: &impl ConnectionTrait, letter: &Letter<'_>) -> ApiResult<()> {
    store::insert(db, outbox_row(letter, now_ms())?).await?;
    Ok(())
}

/// [`enqueue`] of several letters in one statement (the order writer's batch).
pub async fn enqueue_all(db: &impl ConnectionTrait, letters: &[Letter<'_>]) -> ApiResult<()> {
    if letters.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let rows = letters
        .iter()
        .map(|letter| outbox_row(letter, now))
        .collect::<ApiResult<Vec<_>>>()?;
    store::insert_all(db, rows).await?;
    Ok(())
}

fn outbox_row(letter: &Letter<'_>, now: i64) -> ApiResult<store::Model> {
    let rendered = letter.render().map_err(ApiError::internal)?;
    Ok(store::Model {
        id: ids::new("mail"),
        to_address: letter.to.to_owned(),
        kind: letter.kind.as_str().to_owned(),
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
        status: store::MailStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(now),
        last_error: None,
        created_at: now,
        sent_at: None,
    })
}
