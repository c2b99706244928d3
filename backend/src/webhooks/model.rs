//! Webhook types: event states, the retry schedule and the delivery-log view.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::store::{delivery, event};
use crate::db::rfc3339;
use crate::ids::EventId;

/// Delays before the retries that follow the first (immediate) attempt, before jitter:
/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (API.md "Webhooks").
pub const RETRY_DELAYS: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// The first attempt plus one per scheduled retry.
pub const MAX_SCHEDULED_ATTEMPTS: u32 = RETRY_DELAYS.len() as u32 + 1;

/// Every delay is the scheduled one ± this fraction, uniformly.
pub const JITTER_FRACTION: f64 = 0.2;

/// A receiver's `Retry-After` is honoured up to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10 * 3600);

/// What to do with an event after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NextStep {
    /// Try again after this delay.
    RetryIn(Duration),
    /// The schedule is exhausted: the event is `failed`.
    GiveUp,
}

/// The pure retry schedule. `attempts_made` counts the attempts so far, including the
/// one that just failed (1 after the first, immediate one). `jitter` is a sample in
/// `[0, 1)` (injected so tests are deterministic) that maps linearly onto
/// `[-20 %, +20 %)` of the scheduled delay. A `Retry-After` from the receiver wins when
/// it asks for longer than the schedule, capped at [`MAX_RETRY_AFTER`].
pub fn next_step(attempts_made: u32, jitter: f64, retry_after: Option<Duration>) -> NextStep {
    let Some(base) = attempts_made
        .checked_sub(1)
        .and_then(|i| RETRY_DELAYS.get(i as usize))
    else {
        return NextStep::GiveUp;
    };
    let factor = 1.0 + JITTER_FRACTION * (2.0 * jitter.clamp(0.0, 1.0) - 1.0);
    let scheduled = base.mul_f64(factor);
    let delay = match retry_after {
        Some(asked) => scheduled.max(asked.min(MAX_RETRY_AFTER)),
        None => scheduled,
    };
    NextStep::RetryIn(delay)
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110), relative to `now_ms`.
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let millis = date.timestamp_millis().saturating_sub(now_ms).max(0);
    Some(Duration::from_millis(u64::try_from(millis).unwrap_or(0)))
}

/// The largest response excerpt kept per attempt.
pub const EXCERPT_BYTES: usize = 1024;

/// At most [`EXCERPT_BYTES`] of a response body as text, cut on a character boundary.
pub fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT_BYTES)];
    let mut text = String::from_utf8_lossy(head).into_owned();
    if text.len() > EXCERPT_BYTES {
        let mut cut = EXCERPT_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

// Filter of the delivery log: `succeeded` or `failed` attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = DeliveryOutcome, rename_all = "snake_case")]
pub enum AttemptFilter {
    Succeeded,
    Failed,
}

impl AttemptFilter {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    pub fn success(self) -> bool {
        self == Self::Succeeded
    }
}

/// One delivery attempt of a webhook event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookDelivery)]
pub struct DeliveryView {
    pub id: String,
    #[schema(example = "evt_01JD3Q4ZK8M6W2X9V7T5R3P1NB")]
    pub event_id: EventId,
    #[schema(example = "order.completed")]
    pub event_type: String,
    #[schema(format = "uri")]
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// Whether the endpoint answered 2xx.
    pub success: bool,
    /// The endpoint's HTTP status; `null` when no answer came.
    #[schema(required = true)]
    pub status_code: Option<i32>,
    /// Why the attempt failed (timeout, connection refused, …).
    #[schema(required = true)]
    pub error: Option<String>,
    /// The start of the endpoint's answer.
    #[schema(required = true)]
    pub response_excerpt: Option<String>,
    pub duration_ms: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
}

crate::page_schema!(
    /// A page of delivery attempts.
    WebhookDeliveryList,
    DeliveryView
);

impl DeliveryView {
    pub fn new(d: delivery::Model, event_type: String) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type,
            url: d.url,
            attempt: d.attempt,
            success: d.success,
            status_code: d.status_code,
            error: d.error,
            response_excerpt: d.response_excerpt,
            duration_ms: d.duration_ms,
            created_at: rfc3339(d.created_at),
        }
    }
}

// The answer of `POST /api/v1/webhooks/events/{id}/redeliver`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Redelivery, example = json!({"id": "evt_01JD3Q4ZK8M6W2X9V7T5R3P1NB", "status": "pending"}))]
pub struct RedeliverView {
    pub id: EventId,
    /// `pending`: an attempt is due now.
    pub status: String,
}

impl RedeliverView {
    pub fn new(e: &event::Model) -> Self {
        Self {
            id: e.id.clone(),
            status: e.status.as_str().to_owned(),
        }
    }
}

/// The body of a webhook (`POST` to the order's `callback_url` or the merchant's
/// webhook URL).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": "evt_01JD3Q4ZK8M6W2X9V7T5R3P1NB", "type": "order.completed", "created_at": "2026-11-21T10:20:00Z", "livemode": true, "data": {"id": "ord_01JD3Q4ZK8M6W2X9V7T5R3P1NB", "status": "completed"}}))]
pub struct WebhookEvent {
    /// The event id, also in the `webhook-id` header; deduplicate on it.
    pub id: String,
    /// One of `WebhookEventType` (the document names the list; see `openapi::webhook_body`).
    #[serde(rename = "type")]
    pub event_type: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub livemode: bool,
    /// The order (for `order.*`, without `qr_code`) or the withdrawal (for
    /// `withdrawal.*`) after the change.
    #[schema(value_type = Object)]
    pub data: Value,
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::*;

    const MID: f64 = 0.5;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn schedule_without_jitter_is_the_published_one() {
        let expected = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];
        for (i, want) in expected.iter().enumerate() {
            let attempts = i as u32 + 1;
            assert_eq!(
                next_step(attempts, MID, None),
                NextStep::RetryIn(secs(*want)),
                "after attempt {attempts}"
            );
        }
        assert_eq!(next_step(8, MID, None), NextStep::GiveUp);
        assert_eq!(next_step(9, MID, None), NextStep::GiveUp);
        assert_eq!(next_step(0, MID, None), NextStep::GiveUp);
        assert_eq!(MAX_SCHEDULED_ATTEMPTS, 8);
    }

    #[test]
    fn jitter_is_plus_minus_twenty_percent() {
        assert_eq!(next_step(1, 0.0, None), NextStep::RetryIn(secs(4)));
        assert_eq!(
            next_step(2, 0.0, None),
            NextStep::RetryIn(Duration::from_secs(240))
        );
        // The top of the range is open; 1.0 (clamped) is its limit.
        assert_eq!(next_step(2, 1.0, None), NextStep::RetryIn(secs(360)));
        assert_eq!(next_step(1, -3.0, None), NextStep::RetryIn(secs(4)));
    }

    #[test]
    fn seeded_jitter_stays_in_bounds_and_varies() {
        let mut rng = StdRng::seed_from_u64(42);
        let mut seen = std::collections::BTreeSet::new();
        for attempt in 1..=7u32 {
            let base = RETRY_DELAYS[attempt as usize - 1];
            for _ in 0..200 {
                let NextStep::RetryIn(delay) = next_step(attempt, rng.random::<f64>(), None) else {
                    panic!("attempt {attempt} must be retried");
                };
                assert!(delay >= base.mul_f64(0.8), "{delay:?} < 80 % of {base:?}");
                assert!(delay <= base.mul_f64(1.2), "{delay:?} > 120 % of {base:?}");
                seen.insert(delay.as_millis());
            }
        }
        assert!(seen.len() > 100, "jitter should spread the delays");
        // The same seed gives the same schedule.
        let sample = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (1..=7)
                .map(|a| next_step(a, rng.random::<f64>(), None))
                .collect::<Vec<_>>()
        };
        assert_eq!(sample(7), sample(7));
    }

    #[test]
    fn retry_after_wins_when_longer_and_is_capped() {
        // Shorter than the schedule: the schedule stands.
        assert_eq!(next_step(1, MID, Some(secs(0))), NextStep::RetryIn(secs(5)));
        assert_eq!(
            next_step(2, MID, Some(secs(60))),
            NextStep::RetryIn(secs(300))
        );
        // Longer: the receiver's wish.
        assert_eq!(
            next_step(1, MID, Some(secs(3600))),
            NextStep::RetryIn(secs(3600))
        );
        // Capped at 10 h.
        assert_eq!(
            next_step(1, MID, Some(secs(7 * 24 * 3600))),
            NextStep::RetryIn(secs(36_000))
        );
        // Retry-After never resurrects an exhausted schedule.
        assert_eq!(next_step(8, MID, Some(secs(10))), NextStep::GiveUp);
    }

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        assert_eq!(parse_retry_after("120", 0), Some(secs(120)));
        assert_eq!(parse_retry_after(" 0 ", 0), Some(secs(0)));
        let now = chrono::DateTime::parse_from_rfc2822("Wed, 21 Oct 2015 07:28:00 GMT")
            .unwrap()
            .timestamp_millis();
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now),
            Some(secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(secs(0))
        );
        assert_eq!(parse_retry_after("-5", 0), None);
        assert_eq!(parse_retry_after("soon", 0), None);
    }

    #[test]
    fn excerpts_are_at_most_one_kib_of_text() {
        assert_eq!(excerpt(b"ok"), "ok");
        assert_eq!(excerpt(&[b'a'; 5000]).len(), 1024);
        // A multi-byte character across the cut is dropped, never split.
        let mut body = vec![b'a'; 1023];
        body.extend_from_slice("é".as_bytes());
        let text = excerpt(&body);
        assert!(text.len() <= 1024);
        assert!(text.chars().all(|c| c == 'a' || c == '\u{fffd}'));
    }

    #[test]
    fn attempt_filter_values() {
        assert_eq!(
            AttemptFilter::parse("succeeded"),
            Some(AttemptFilter::Succeeded)
        );
        assert_eq!(AttemptFilter::parse("failed"), Some(AttemptFilter::Failed));
        assert_eq!(AttemptFilter::parse("delivered"), None);
        assert!(AttemptFilter::Succeeded.success());
        assert!(!AttemptFilter::Failed.success());
    }
}
