//! Reading a Server-Sent Events response as a browser's `EventSource` would.

use std::time::Duration;

use futures_util::StreamExt;

/// Reads the stream until `needle` appears (within 10 s) and returns all it read.
pub async fn read_until(response: reqwest::Response, needle: &str) -> String {
    let mut stream = response.bytes_stream();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("no {needle:?} within 10 s; got {seen:?}"))
            .expect("stream ended")
            .expect("stream chunk");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}
