//! The webhook dispatcher: a background task that delivers due outbox events.
//!
//! Each round claims up to [`CLAIM_BATCH`] due events (leasing them for [`LEASE_MS`], so
//! that several nodes never send the same event at once) and delivers them concurrently,
//! at most [`MAX_IN_FLIGHT`] at a time. A round starts when a transaction has enqueued
//! events (`AppState::webhook_wakeup`), every `scheduler_interval_ms`, and right away
//! after a full batch. On shutdown the task stops; attempts cut short are retried when
//! their lease expires (delivery is at least once).
//!
//! One attempt: POST the stored payload bytes with `content-type: application/json`
//! and the Standard Webhooks headers (signed with the merchant's secret at send time),
//! 15 s timeout, redirects not followed, through the SSRF guard. 2xx → `delivered`;
//! otherwise the next attempt follows [`model::next_step`]; every attempt is logged.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::web;
use futures_util::StreamExt as _;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::model::{self, NextStep};
use super::service::{self, AfterAttempt, AttemptLog, Attempted};
use super::signing;
use super::store::event;
use crate::db::now_ms;
use crate::ids::MerchantId;
use crate::merchants::merchant;
use crate::merchants::service::find_merchants;
use crate::ssrf;
use crate::state::AppState;

/// Events claimed per round. With [`MAX_IN_FLIGHT`] and [`REQUEST_TIMEOUT`] it bounds a
/// round to 2 × 15 s even if every endpoint hangs, well inside [`LEASE_MS`].
pub const CLAIM_BATCH: u64 = 64;
/// Deliveries in flight at once.
pub const MAX_IN_FLIGHT: usize = 32;
/// How long a claimed event is reserved for the attempt in flight.
pub const LEASE_MS: i64 = 60_000;
/// Time limit of one attempt, from connecting to the end of the response.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The error logged when an event has neither a `callback_url` nor a merchant endpoint.
pub const NO_ENDPOINT: &str = "no endpoint";

/// States whose dispatcher is running (by the address of their wakeup `Notify`), so that
/// spawning twice for one state starts only one loop.
static RUNNING: Mutex<Option<HashSet<usize>>> = Mutex::new(None);

struct Registration(usize);

impl Registration {
    fn acquire(state: &AppState) -> Option<Self> {
        Self::acquire_key(Arc::as_ptr(&state.webhook_wakeup).addr())
    }

    fn acquire_key(key: usize) -> Option<Self> {
        let inserted = RUNNING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(HashSet::new)
            .insert(key);
        // Built only after the lock is released, and only when this call registered:
        // dropping a `Registration` takes the lock and removes the key.
        inserted.then(|| Self(key))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut running = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = running.as_mut() {
            set.remove(&self.0);
        }
    }
}

/// Starts the dispatcher of this state; it runs until `shutdown` turns true (or its
/// sender is dropped). A second call for the same state returns a task that ends at
/// once.
pub fn spawn(state: web::Data<AppState>, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let Some(_registration) = Registration::acquire(&state) else {
            tracing::debug!("the webhook dispatcher is already running");
            return;
        };
        let dispatcher = match Dispatcher::new(state.into_inner()) {
            Ok(dispatcher) => dispatcher,
            Err(err) => {
                tracing::error!(error = %err, "the webhook HTTP client could not be built; webhooks are not sent");
                return;
            }
        };
        dispatcher.run(shutdown).await;
        tracing::debug!("webhook dispatcher stopped");
    })
}

/// The HTTP client of webhook deliveries: no redirects, no proxy (a proxy would resolve
/// names itself and defeat the SSRF guard), the timeout, and — unless private targets
/// are allowed — the guarded resolver.
pub fn http_client(allow_private: bool) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(30))
        .user_agent(concat!("OTCPay-Webhooks/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        builder = builder.dns_resolver(ssrf::GuardedResolver);
    }
    builder.build()
}

struct Dispatcher {
    state: Arc<AppState>,
    client: reqwest::Client,
    allow_private: bool,
}

/// What one attempt produced, before the schedule decides what comes next.
struct Outcome {
    url: String,
    status_code: Option<u16>,
    error: Option<String>,
    excerpt: Option<String>,
    retry_after: Option<Duration>,
    /// No later attempt can succeed (no endpoint, merchant gone).
    terminal: bool,
}

impl Outcome {
    fn error(url: &str, error: impl Into<String>) -> Self {
        Self {
            url: url.to_owned(),
            status_code: None,
            error: Some(error.into()),
            excerpt: None,
            retry_after: None,
            terminal: false,
        }
    }

    fn success(&self) -> bool {
        self.status_code
            .is_some_and(|code| (200..300).contains(&code))
    }
}

/// An error and its causes in one line ("error sending request: connection refused").
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

impl Dispatcher {
    fn new(state: Arc<AppState>) -> reqwest::Result<Self> {
        let allow_private = state.settings.allow_private_webhooks();
        Ok(Self {
            client: http_client(allow_private)?,
            state,
            allow_private,
        })
    }

    async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let interval = Duration::from_millis(self.state.settings.scheduler_interval_ms.max(10));
        loop {
            if *shutdown.borrow() {
                return;
            }
            let full = tokio::select! {
                biased;
                _ = shutdown.changed() => return,
                full = self.round() => full,
            };
            if full {
                continue;
            }
            tokio::select! {
                _ = shutdown.changed() => return,
                () = self.state.webhook_wakeup.notified() => {}
                () = tokio::time::sleep(interval) => {}
            }
        }
    }

    /// Claims and delivers one batch; true when the batch was full (more may be due).
    async fn round(&self) -> bool {
        let events = match service::claim_due(&self.state.db, now_ms(), CLAIM_BATCH, LEASE_MS).await
        {
            Ok(events) => events,
            Err(err) => {
                tracing::warn!(error = %err, "claiming due webhooks failed");
                return false;
            }
        };
        let full = events.len() as u64 == CLAIM_BATCH;
        // The batch's merchants (endpoint, secret) in one query rather than one per event.
        let merchant_ids: HashSet<MerchantId> =
            events.iter().map(|e| e.merchant_id.clone()).collect();
        let merchants: Result<HashMap<MerchantId, merchant::Model>, String> =
            match find_merchants(&self.state.db, merchant_ids).await {
                Ok(found) => Ok(found.into_iter().map(|m| (m.id.clone(), m)).collect()),
                Err(err) => Err(format!("database: {err}")),
            };
        let merchants = &merchants;
        // Attempts are logged as they finish, those that finish together in one
        // transaction; the recorder ends when the last delivery has reported.
        let (finished_tx, mut finished_rx) = mpsc::unbounded_channel::<Attempted>();
        let deliveries = async move {
            futures_util::stream::iter(events)
                .for_each_concurrent(MAX_IN_FLIGHT, |event| {
                    let finished = finished_tx.clone();
                    async move {
                        let merchant = merchants
                            .as_ref()
                            .map(|found| found.get(&event.merchant_id))
                            .map_err(String::as_str);
                        let _ = finished.send(self.deliver(event, merchant).await);
                    }
                })
                .await;
        };
        let recorder = async {
            let mut finished = Vec::new();
            while finished_rx.recv_many(&mut finished, MAX_IN_FLIGHT).await > 0 {
                if let Err(err) =
                    service::record_attempts(&self.state.db, &finished, now_ms()).await
                {
                    // The leases run out and the events are tried again: at least once.
                    tracing::error!(attempts = finished.len(), error = %err, "recording webhook attempts failed");
                }
                finished.clear();
            }
        };
        tokio::join!(deliveries, recorder);
        full
    }

    /// One attempt and what follows from it (logged by the caller).
    /// `merchant`: the event's merchant (`None` if it is gone), or why it could not be read.
    async fn deliver(
        &self,
        claimed: event::Model,
        merchant: Result<Option<&merchant::Model>, &str>,
    ) -> Attempted {
        let started = Instant::now();
        let outcome = self.attempt(&claimed, merchant).await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let success = outcome.success();
        let attempts_made = u32::try_from(claimed.attempts.saturating_add(1)).unwrap_or(u32::MAX);
        let now = now_ms();
        let after = if success {
            AfterAttempt::Delivered
        } else if outcome.terminal {
            AfterAttempt::Failed
        } else {
            match model::next_step(attempts_made, rand::random::<f64>(), outcome.retry_after) {
                NextStep::RetryIn(delay) => AfterAttempt::RetryAt(
                    now.saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX)),
                ),
                NextStep::GiveUp => AfterAttempt::Failed,
            }
        };
        self.state.metrics.webhook_attempt(success);
        tracing::info!(
            event_id = %claimed.id,
            event_type = %claimed.event_type,
            attempt = attempts_made,
            status = outcome.status_code,
            error = outcome.error.as_deref(),
            duration_ms,
            next = ?after,
            "webhook attempt"
        );
        let log = AttemptLog {
            url: outcome.url,
            success,
            status_code: outcome.status_code.map(i32::from),
            error: outcome.error,
            response_excerpt: outcome.excerpt,
            duration_ms,
        };
        Attempted {
            claimed,
            log,
            after,
        }
    }

    async fn attempt(
        &self,
        ev: &event::Model,
        merchant: Result<Option<&merchant::Model>, &str>,
    ) -> Outcome {
        let merchant = match merchant {
            Ok(Some(merchant)) => merchant,
            Ok(None) => {
                return Outcome {
                    terminal: true,
                    ..Outcome::error("", "merchant not found")
                };
            }
            Err(err) => return Outcome::error("", err),
        };
        let Some(url) = ev
            .target_url
            .as_deref()
            .or(merchant.webhook_url.as_deref())
            .map(str::trim)
            .filter(|url| !url.is_empty())
        else {
            return Outcome {
                terminal: true,
                ..Outcome::error("", NO_ENDPOINT)
            };
        };
        let target = match ssrf::check_url(url, self.allow_private).await {
            Ok(target) => target,
            Err(refused) => return Outcome::error(url, refused.to_string()),
        };
        let secret = match self.state.keys.unseal(&merchant.webhook_secret_enc) {
            Ok(secret) => secret,
            Err(err) => return Outcome::error(url, format!("webhook secret unavailable: {err}")),
        };
        // During a rotation's overlap window the previous secret signs too.
        let previous = match (
            &merchant.webhook_secret_prev_enc,
            merchant.webhook_secret_prev_expires_at,
        ) {
            (Some(sealed), Some(expires_at)) if expires_at > now_ms() => {
                self.state.keys.unseal(sealed).ok()
            }
            _ => None,
        };
        let timestamp = now_ms().div_euclid(1000);
        let headers = match signing::headers_rotating(
            &secret,
            previous.as_deref(),
            &ev.id,
            timestamp,
            ev.payload.as_bytes(),
        ) {
            Ok(headers) => headers,
            Err(err) => return Outcome::error(url, format!("webhook secret unusable: {err}")),
        };
        let mut request = self
            .client
            .post(target)
            .header(CONTENT_TYPE, "application/json")
            .body(ev.payload.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                let text = if ssrf::is_refusal(&err) {
                    ssrf::ADDRESS_NOT_ALLOWED.to_owned()
                } else if err.is_timeout() {
                    format!("timeout after {} s", REQUEST_TIMEOUT.as_secs())
                } else {
                    error_chain(&err)
                };
                return Outcome::error(url, text);
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| model::parse_retry_after(v, now_ms()));
        let mut body = Vec::new();
        let mut read_error = None;
        while body.len() < model::EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(err) => {
                    read_error = Some(if err.is_timeout() {
                        format!(
                            "timeout after {} s reading the response",
                            REQUEST_TIMEOUT.as_secs()
                        )
                    } else {
                        format!("reading the response: {}", error_chain(&err))
                    });
                    break;
                }
            }
        }
        let excerpt = model::excerpt(&body);
        Outcome {
            url: url.to_owned(),
            status_code: Some(status.as_u16()),
            error: read_error.filter(|_| !status.is_success()),
            excerpt: (!excerpt.is_empty()).then_some(excerpt),
            retry_after,
            terminal: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_registration_per_state() {
        let key = usize::MAX - 7;
        let first = Registration::acquire_key(key).expect("first registration");
        assert!(Registration::acquire_key(key).is_none(), "second refused");
        // A refused attempt must not have removed the first one.
        assert!(Registration::acquire_key(key).is_none());
        let other = Registration::acquire_key(key - 1).expect("another state");
        drop(first);
        let again = Registration::acquire_key(key).expect("free after drop");
        drop((again, other));
    }

    #[test]
    fn error_chains_read_as_one_line() {
        let err = std::io::Error::other(ssrf::AddressNotAllowed);
        assert_eq!(error_chain(&err), "address not allowed");
        assert!(ssrf::is_refusal(&err));
    }

    #[tokio::test]
    async fn the_guarded_client_never_connects_to_private_names() {
        crate::telemetry::install_crypto_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let guarded = http_client(false).unwrap();
        let err = guarded
            .post(format!("http://localhost:{port}/cb"))
            .send()
            .await
            .expect_err("localhost is refused at connect time");
        assert!(ssrf::is_refusal(&err), "{}", error_chain(&err));
        // The same name is reachable when private targets are allowed.
        let open = http_client(true).unwrap();
        let accepted = tokio::spawn(async move { listener.accept().await.is_ok() });
        let _ = tokio::time::timeout(
            Duration::from_millis(300),
            open.post(format!("http://localhost:{port}/cb")).send(),
        )
        .await;
        assert!(accepted.await.unwrap());
    }
}
