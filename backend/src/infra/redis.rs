//! Redis plumbing shared by the seams: the connection they all use and how to check it.
//!
//! One [`ConnectionManager`] per process multiplexes every command of every seam over a single
//! connection and reconnects by itself after a drop (the command in flight fails; the next one
//! goes through). Only the event bus's subscriber needs a connection of its own, because a
//! connection in subscribed mode accepts nothing else.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::InfraError;

/// Time allowed to open a TCP connection (and handshake) to Redis.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time allowed for one reply. The seams' scripts are short; a slow reply means trouble.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connects the shared connection manager; fails if Redis cannot be reached after a few
/// retries with backoff (a few seconds), so that a misconfigured node does not start.
pub(crate) async fn connection_manager(
    client: &redis::Client,
) -> Result<ConnectionManager, InfraError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(4)
        .set_max_delay(Duration::from_secs(2));
    Ok(client.get_connection_manager_with_config(config).await?)
}

pub(crate) async fn ping(mut conn: ConnectionManager) -> Result<(), InfraError> {
    let reply: String = redis::cmd("PING").query_async(&mut conn).await?;
    if reply == "PONG" {
        Ok(())
    } else {
        Err(InfraError::UnexpectedReply(format!(
            "PING answered {reply:?}"
        )))
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Redis tests run against `OTCPAY_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`), each
    //! under a random key prefix so that tests and concurrent runs never see each other's keys.
    //! An unreachable Redis fails the test: silently skipping would hide the production path.

    use redis::aio::ConnectionManager;

    use crate::infra::InfraError;

    pub(crate) fn url() -> String {
        std::env::var("OTCPAY_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
    }

    pub(crate) fn unique_prefix() -> String {
        format!("otcpay-test:{:016x}:", rand::random::<u64>())
    }

    pub(crate) fn unreachable(url: &str, error: &InfraError) -> String {
        format!(
            "Redis tests need a Redis server at {url} (start redis-server, or point \
             OTCPAY_TEST_REDIS_URL at one): {error}"
        )
    }

    /// A client and a connected manager for the test Redis; panics with directions if absent.
    pub(crate) async fn connect() -> (redis::Client, ConnectionManager) {
        let url = url();
        let client = redis::Client::open(url.as_str())
            .unwrap_or_else(|e| panic!("{}", unreachable(&url, &e.into())));
        let conn = super::connection_manager(&client)
            .await
            .unwrap_or_else(|e| panic!("{}", unreachable(&url, &e)));
        (client, conn)
    }
}
