//! Server-Sent Events from the event bus.
//!
//! A stream subscribes to the bus (in-process or Redis, so events produced on any node
//! arrive) and forwards the events of one topic as `event: <kind>` / `data: <json>`
//! frames, with a comment line every 15 s so that proxies keep the connection open. A
//! client that falls behind is told with a `lagged` event and should re-read state.

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

const KEEPALIVE: Duration = Duration::from_secs(15);

fn frame(kind: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {kind}\ndata: {data}\n\n"))
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
    let opening = Bytes::from_static(b": connected\n\n");
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
