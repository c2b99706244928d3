//! Server-Sent Events from the event bus.
//!
//! A stream subscribes to the bus (in-process or Redis, so events produced on any node
//! arrive) and forwards the events of one topic as `event: <kind>` / `data: <json>`
//! frames, with a comment line every 15 s so that proxies keep the connection open. A
//! client that falls behind is told with a `lagged` event and should re-read state.
//!
//! Every event carries an `id:` (the server's time in Unix milliseconds when it was
//! sent). A client that reconnects with `Last-Event-ID` (browsers do by themselves) is
//! first sent the current state of each object that changed since then, read from the
//! database by the route ([`sse_response_resuming`]) — a replay of state, not of a
//! buffer, so it holds across nodes and restarts; clients apply events by object id, so
//! an event seen twice changes nothing.

use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use futures_util::stream;
use tokio::sync::broadcast::{Receiver, error::RecvError};

use crate::infra::event_bus::BusEvent;
use crate::state::AppState;

/// The topic of the admin console's stream (`GET /admin/events`): a dispute opened, a
/// message posted in one, a withdrawal waiting for review or reviewed.
pub const ADMIN_TOPIC: &str = "admin";

/// Tells the admin console that `kind` happened (after the commit; best effort, like
/// every live event: the console re-reads its page on each event and on reconnect).
pub async fn announce_to_admins(state: &AppState, kind: &str, payload: serde_json::Value) {
    let event = BusEvent {
        topic: ADMIN_TOPIC.to_owned(),
        kind: kind.to_owned(),
        payload,
    };
    if let Err(err) = state.infra.event_bus.publish(&event).await {
        tracing::warn!(error = %err, "admin live event not published");
    }
}

pub const KEEPALIVE: Duration = Duration::from_secs(15);

fn frame(kind: &str, data: &str) -> Bytes {
    let id = crate::db::now_ms();
    Bytes::from(format!("id: {id}\nevent: {kind}\ndata: {data}\n\n"))
}

/// How far before `Last-Event-ID` a replay starts: an event is published after its
/// commit, so a change may be stamped a little before the last event the client saw.
pub const REPLAY_SLACK_MS: i64 = 5_000;

/// The `Last-Event-ID` of a reconnecting client, if it is one of our ids.
pub fn last_event_id(req: &actix_web::HttpRequest) -> Option<i64> {
    req.headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|ms| *ms > 0)
}

/// An SSE response of the events whose topic is `topic`.
pub fn sse_response(receiver: Receiver<BusEvent>, topic: String) -> HttpResponse {
    sse_response_keeping(receiver, topic, (), KEEPALIVE)
}

/// [`sse_response`] that holds `keep` for as long as the client stays connected (the
/// acceptor's presence guard: dropped when the stream ends), with a keepalive every
/// `keepalive` — a write is how a vanished client is noticed.
pub fn sse_response_keeping<K: 'static>(
    receiver: Receiver<BusEvent>,
    topic: String,
    keep: K,
    keepalive: Duration,
) -> HttpResponse {
    sse_response_resuming(receiver, topic, keep, keepalive, Vec::new())
}

/// [`sse_response_keeping`] that first sends `replay` (`(kind, data)` of the current
/// state of what changed since the client's `Last-Event-ID`).
pub fn sse_response_resuming<K: 'static>(
    receiver: Receiver<BusEvent>,
    topic: String,
    keep: K,
    keepalive: Duration,
    replay: Vec<(String, serde_json::Value)>,
) -> HttpResponse {
    let mut opening = b": connected\n\n".to_vec();
    for (kind, data) in &replay {
        opening.extend_from_slice(&frame(kind, &data.to_string()));
    }
    let opening = Bytes::from(opening);
    let events = stream::unfold(
        (receiver, (topic, keep), Some(opening)),
        move |(mut receiver, (topic, keep), first)| async move {
            if let Some(opening) = first {
                return Some((
                    Ok::<_, actix_web::Error>(opening),
                    (receiver, (topic, keep), None),
                ));
            }
            loop {
                match tokio::time::timeout(keepalive, receiver.recv()).await {
                    Err(_) => {
                        return Some((
                            Ok(Bytes::from_static(b": keepalive\n\n")),
                            (receiver, (topic, keep), None),
                        ));
                    }
                    Ok(Ok(event)) if event.topic == topic => {
                        let bytes = frame(&event.kind, &event.payload.to_string());
                        return Some((Ok(bytes), (receiver, (topic, keep), None)));
                    }
                    Ok(Ok(_)) => continue,
                    Ok(Err(RecvError::Lagged(_))) => {
                        return Some((Ok(frame("lagged", "{}")), (receiver, (topic, keep), None)));
                    }
                    Ok(Err(RecvError::Closed)) => return None,
                }
            }
        },
    );
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events)
}
