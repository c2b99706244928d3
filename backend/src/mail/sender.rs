//! The worker that delivers the outbox: through SMTP when `SMTP_URL` is set, else as one
//! `.eml` file per mail under `<data dir>/mail/` (the embedded default needs no mail
//! server; its link is logged so that a developer can follow it — with SMTP no link is
//! ever logged). Failed attempts are retried with growing delays; a mail is given up
//! (`failed`) after [`MAX_ATTEMPTS`].

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::model::MailKind;
use super::store;
use crate::db::now_ms;
use crate::state::AppState;

pub const MAX_ATTEMPTS: i32 = 12;
/// How long a claimed mail is held by its worker before another may retry it.
const LEASE_MS: i64 = 120_000;

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Delay before attempt `attempts + 1`, in units of the first delay
/// (`OTCPAY_MAIL_RETRY_SECONDS`, 10 s by default): 10 s, 30 s, 1 min, 2 min, 5 min, then
/// 15 min.
pub fn retry_delay_ms(first_ms: i64, attempts: i32) -> i64 {
    const STEPS: [i64; 6] = [1, 3, 6, 12, 30, 90];
    let at = usize::try_from(attempts.max(0))
        .unwrap_or(0)
        .min(STEPS.len() - 1);
    first_ms.saturating_mul(STEPS[at])
}

fn transport(state: &AppState) -> anyhow::Result<Transport> {
    match &state.settings.smtp_url {
        Some(url) => Ok(Transport::Smtp(
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())?
                .timeout(Some(Duration::from_secs(15)))
                .build(),
        )),
        None => {
            let dir = state.settings.data_dir.join("mail");
            crate::config::create_private_dir(&dir)?;
            Ok(Transport::Files(AsyncFileTransport::<Tokio1Executor>::new(
                dir,
            )))
        }
    }
}

fn message(from: &Mailbox, mail: &store::Model) -> anyhow::Result<Message> {
    Ok(Message::builder()
        .from(from.clone())
        .to(mail.to_address.parse()?)
        .subject(mail.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            mail.text_body.clone(),
            mail.html_body.clone(),
        ))?)
}

/// The first `http(s)://` link of a text (for the file mode's log line).
fn first_link(text: &str) -> Option<&str> {
    let at = text.find("http://").or_else(|| text.find("https://"))?;
    text[at..].split_whitespace().next()
}

async fn send(transport: &Transport, from: &Mailbox, mail: &store::Model) -> anyhow::Result<()> {
    let message = message(from, mail)?;
    match transport {
        Transport::Smtp(smtp) => {
            smtp.send(message).await?;
        }
        Transport::Files(files) => {
            let id = files.send(message).await?;
            tracing::info!(
                mail = %mail.id,
                file = %format!("{id}.eml"),
                link = first_link(&mail.text_body).unwrap_or(""),
                "mail written to the data dir (no SMTP_URL)"
            );
        }
    }
    Ok(())
}

/// One round: every due mail this worker can claim, sent one after the other.
async fn round(state: &AppState, transport: &Transport, from: &Mailbox) -> anyhow::Result<usize> {
    let now = now_ms();
    let due = store::due(&state.db, now, 20).await?;
    let mut sent = 0;
    for mail in due {
        let seen = mail.next_attempt_at.unwrap_or(now);
        if !store::claim(&state.db, &mail.id, seen, now_ms(), LEASE_MS).await? {
            continue;
        }
        match send(transport, from, &mail).await {
            Ok(()) => {
                store::mark_sent(&state.db, &mail.id, now_ms()).await?;
                let kind = MailKind::parse(&mail.kind).map_or("other", MailKind::as_str);
                state.metrics.mail_sent(kind);
                sent += 1;
            }
            Err(err) => {
                let attempts = mail.attempts + 1;
                let first = i64::try_from(state.settings.mail_retry_seconds.saturating_mul(1000))
                    .unwrap_or(i64::MAX / 2);
                let next = (attempts < MAX_ATTEMPTS)
                    .then(|| now_ms() + retry_delay_ms(first, mail.attempts));
                tracing::warn!(mail = %mail.id, attempts, error = %err, "mail not delivered; will retry");
                store::mark_failed(&state.db, &mail.id, &err.to_string(), next).await?;
            }
        }
    }
    Ok(sent)
}

pub fn spawn(
    state: actix_web::web::Data<AppState>,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let (transport, from) = match (
            transport(&state),
            state.settings.mail_from.parse::<Mailbox>(),
        ) {
            (Ok(transport), Ok(from)) => (transport, from),
            (Err(err), _) => {
                tracing::error!(error = %err, "mail transport not configured; mail stays in the outbox");
                return;
            }
            (_, Err(err)) => {
                tracing::error!(error = %err, "OTCPAY_MAIL_FROM is not a mail address; mail stays in the outbox");
                return;
            }
        };
        let interval = Duration::from_millis(state.settings.scheduler_interval_ms.max(50));
        loop {
            if let Err(err) = round(&state, &transport, &from).await {
                tracing::warn!(error = %err, "mail round failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_slow_down_and_links_are_found() {
        assert_eq!(retry_delay_ms(10_000, 0), 10_000);
        assert!(retry_delay_ms(10_000, 3) > retry_delay_ms(10_000, 2));
        assert_eq!(retry_delay_ms(10_000, 50), 900_000);
        assert_eq!(
            first_link("Open http://127.0.0.1:8080/verify-email?token=ab now"),
            Some("http://127.0.0.1:8080/verify-email?token=ab")
        );
        assert_eq!(first_link("no link"), None);
    }
}
