//! Live-event fan-out across nodes, feeding Server-Sent Events to acceptor portals and cashier
//! pages.
//!
//! A browser holds its SSE stream open on whichever node the load balancer picked, while the
//! change it waits for (an order assigned, a payment confirmed) may happen on any other node. So
//! every node publishes to one shared channel and every node relays that channel into a local
//! broadcast, which SSE handlers subscribe to and filter by topic.
//!
//! Delivery is best effort, like the live view it feeds: a slow local receiver lags (tokio
//! broadcast semantics) and events published while a node is reconnecting to Redis are lost.
//! Pages therefore load the current state on (re)connect and treat events as hints to refresh.
//!
//! In Redis mode, publishing goes through the shared connection manager; one background task per
//! bus holds the dedicated pub/sub connection, relays messages, checks the connection with a
//! periodic `PING` (a silently dead TCP peer never reports an error) and resubscribes with
//! jittered exponential backoff when it is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, PubSub};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep, timeout};

use super::InfraError;
use super::redis::CONNECT_TIMEOUT;

/// One live event. SSE handlers pick theirs by `topic`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BusEvent {
    /// Who it is for, e.g. `acceptor:acc_…` or `order:ord_…`.
    pub topic: String,
    /// What happened, e.g. `order.assigned`.
    pub kind: String,
    pub payload: serde_json::Value,
}

#[async_trait::async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, event: &BusEvent) -> Result<(), InfraError>;

    /// Several events in order; the Redis bus sends them in one round trip.
    async fn publish_all(&self, events: &[BusEvent]) -> Result<(), InfraError> {
        for event in events {
            self.publish(event).await?;
        }
        Ok(())
    }

    /// Every event published by any node after this call; a slow receiver may lag
    /// (`RecvError::Lagged`) and then continues with newer events.
    fn subscribe(&self) -> broadcast::Receiver<BusEvent>;
}

/// Events a local receiver may fall behind by before it lags.
const LOCAL_CAPACITY: usize = 1024;

/// The embedded bus: one process, so a broadcast channel is the whole story.
#[derive(Debug)]
pub struct InProcessEventBus {
    local: broadcast::Sender<BusEvent>,
}

impl InProcessEventBus {
    pub fn new() -> Self {
        Self {
            local: broadcast::channel(LOCAL_CAPACITY).0,
        }
    }
}

impl Default for InProcessEventBus {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl EventBus for InProcessEventBus {
    async fn publish(&self, event: &BusEvent) -> Result<(), InfraError> {
        // An error only means nobody is listening right now.
        let _ = self.local.send(event.clone());
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.local.subscribe()
    }
}

/// How the relay watches and restores its subscription.
#[derive(Clone, Copy, Debug)]
struct RelayTiming {
    heartbeat: Duration,
    heartbeat_timeout: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
}

impl RelayTiming {
    const PRODUCTION: Self = Self {
        heartbeat: Duration::from_secs(15),
        heartbeat_timeout: Duration::from_secs(5),
        min_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(10),
    };
}

/// The production bus: JSON messages on the Redis channel `{prefix}events`.
pub struct RedisEventBus {
    conn: ConnectionManager,
    channel: String,
    local: broadcast::Sender<BusEvent>,
    reconnects: Arc<AtomicU64>,
    relay: JoinHandle<()>,
}

impl RedisEventBus {
    /// Subscribes, then returns: an event published once this returns is not missed. `client`
    /// opens the dedicated pub/sub connection; `conn` carries the publishes.
    pub async fn start(
        client: redis::Client,
        conn: ConnectionManager,
        prefix: &str,
    ) -> Result<Self, InfraError> {
        Self::start_with(client, conn, prefix, RelayTiming::PRODUCTION).await
    }

    async fn start_with(
        client: redis::Client,
        conn: ConnectionManager,
        prefix: &str,
        timing: RelayTiming,
    ) -> Result<Self, InfraError> {
        let channel = format!("{prefix}events");
        let subscription = subscribe(&client, &channel).await?;
        let local = broadcast::channel(LOCAL_CAPACITY).0;
        let reconnects = Arc::new(AtomicU64::new(0));
        let relay = tokio::spawn(
            Relay {
                client,
                channel: channel.clone(),
                local: local.clone(),
                reconnects: Arc::clone(&reconnects),
                timing,
            }
            .run(subscription),
        );
        Ok(Self {
            conn,
            channel,
            local,
            reconnects,
            relay,
        })
    }

    /// How many times the subscription was lost and restored (for metrics).
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }
}

impl Drop for RedisEventBus {
    fn drop(&mut self) {
        self.relay.abort();
    }
}

#[async_trait::async_trait]
impl EventBus for RedisEventBus {
    async fn publish(&self, event: &BusEvent) -> Result<(), InfraError> {
        let message = serde_json::to_string(event)?;
        let _receivers: u64 = redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(message)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn publish_all(&self, events: &[BusEvent]) -> Result<(), InfraError> {
        let mut pipe = redis::pipe();
        for event in events {
            pipe.cmd("PUBLISH")
                .arg(&self.channel)
                .arg(serde_json::to_string(event)?)
                .ignore();
        }
        let () = pipe.query_async(&mut self.conn.clone()).await?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.local.subscribe()
    }
}

/// Opens a pub/sub connection and waits until Redis confirms the subscription.
async fn subscribe(client: &redis::Client, channel: &str) -> Result<PubSub, InfraError> {
    let open_and_subscribe = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, InfraError>(pubsub)
    };
    timeout(CONNECT_TIMEOUT, open_and_subscribe)
        .await
        .map_err(|_| InfraError::Timeout(CONNECT_TIMEOUT))?
}

/// The background task of a [`RedisEventBus`]: channel → local broadcast, forever.
struct Relay {
    client: redis::Client,
    channel: String,
    local: broadcast::Sender<BusEvent>,
    reconnects: Arc<AtomicU64>,
    timing: RelayTiming,
}

impl Relay {
    async fn run(self, mut subscription: PubSub) {
        loop {
            let cause = self.forward_until_lost(subscription).await;
            tracing::warn!(channel = %self.channel, %cause, "event bus: Redis subscription lost, reconnecting");
            subscription = self.resubscribe().await;
            self.reconnects.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Relays messages until the connection fails; returns why.
    async fn forward_until_lost(&self, subscription: PubSub) -> String {
        let (mut sink, mut messages) = subscription.split();
        let period = self.timing.heartbeat;
        let mut heartbeat = interval_at(Instant::now() + period, period);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                message = messages.next() => match message {
                    Some(message) => self.forward(message.get_payload_bytes()),
                    None => return "connection closed".to_owned(),
                },
                _ = heartbeat.tick() => {
                    match timeout(self.timing.heartbeat_timeout, sink.ping::<redis::Value>()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(error)) => return format!("PING failed: {error}"),
                        Err(_) => return format!("no PING reply within {:?}", self.timing.heartbeat_timeout),
                    }
                }
            }
        }
    }

    fn forward(&self, payload: &[u8]) {
        if self.local.receiver_count() == 0 {
            // No stream on this node is listening: not worth decoding.
            return;
        }
        match serde_json::from_slice::<BusEvent>(payload) {
            // A send error only means no local subscriber right now.
            Ok(event) => drop(self.local.send(event)),
            Err(error) => {
                tracing::warn!(channel = %self.channel, %error, "event bus: dropped an undecodable message");
            }
        }
    }

    async fn resubscribe(&self) -> PubSub {
        let mut backoff = self.timing.min_backoff;
        loop {
            // Jitter spreads the reconnects of many nodes after a Redis restart.
            sleep(backoff.mul_f64(rand::random_range(0.5..1.0))).await;
            match subscribe(&self.client, &self.channel).await {
                Ok(subscription) => {
                    tracing::info!(channel = %self.channel, "event bus: Redis subscription restored");
                    return subscription;
                }
                Err(error) => {
                    tracing::warn!(channel = %self.channel, %error, retry_in = ?backoff, "event bus: resubscribe failed");
                    backoff = (backoff * 2).min(self.timing.max_backoff);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio::io::copy_bidirectional;
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::broadcast::error::TryRecvError;

    use super::super::redis::test_support;
    use super::*;

    const PATIENCE: Duration = Duration::from_secs(3);

    fn event(topic: &str, n: u64) -> BusEvent {
        BusEvent {
            topic: topic.to_owned(),
            kind: "order.assigned".to_owned(),
            payload: serde_json::json!({ "n": n, "amount": "12.50" }),
        }
    }

    async fn next(rx: &mut broadcast::Receiver<BusEvent>) -> BusEvent {
        timeout(PATIENCE, rx.recv())
            .await
            .expect("no event within the patience window")
            .expect("bus closed")
    }

    async fn redis_bus(prefix: &str) -> RedisEventBus {
        let (client, conn) = test_support::connect().await;
        RedisEventBus::start(client, conn, prefix).await.unwrap()
    }

    async fn every_subscriber_receives(bus: &dyn EventBus) {
        let mut first = bus.subscribe();
        let mut second = bus.subscribe();
        let sent = event("order:ord_1", 1);
        bus.publish(&sent).await.unwrap();
        assert_eq!(next(&mut first).await, sent);
        assert_eq!(next(&mut second).await, sent);
    }

    async fn events_arrive_in_publish_order(bus: &dyn EventBus) {
        let mut rx = bus.subscribe();
        for n in 0..20 {
            bus.publish(&event("acceptor:acc_1", n)).await.unwrap();
        }
        for n in 0..20 {
            assert_eq!(next(&mut rx).await, event("acceptor:acc_1", n));
        }
    }

    async fn a_batch_arrives_whole_and_in_order(bus: &dyn EventBus) {
        let mut rx = bus.subscribe();
        let batch: Vec<BusEvent> = (0..5)
            .map(|n| {
                event(
                    if n % 2 == 0 {
                        "order:ord_3"
                    } else {
                        "acceptor:acc_3"
                    },
                    n,
                )
            })
            .collect();
        bus.publish_all(&batch).await.unwrap();
        bus.publish(&event("order:ord_3", 99)).await.unwrap();
        for sent in batch {
            assert_eq!(next(&mut rx).await, sent);
        }
        assert_eq!(next(&mut rx).await, event("order:ord_3", 99));
    }

    async fn publishing_without_subscribers_is_fine(bus: &dyn EventBus) {
        bus.publish(&event("order:ord_2", 2)).await.unwrap();
        let mut late = bus.subscribe();
        assert_eq!(
            late.try_recv(),
            Err(TryRecvError::Empty),
            "only later events"
        );
    }

    macro_rules! against_both_buses {
        ($($case:ident),* $(,)?) => {
            mod in_process {
                $(
                    #[tokio::test]
                    async fn $case() {
                        super::$case(&super::InProcessEventBus::new()).await;
                    }
                )*
            }
            mod on_redis {
                $(
                    #[tokio::test]
                    async fn $case() {
                        let prefix = super::test_support::unique_prefix();
                        super::$case(&super::redis_bus(&prefix).await).await;
                    }
                )*
            }
        };
    }

    against_both_buses!(
        every_subscriber_receives,
        events_arrive_in_publish_order,
        a_batch_arrives_whole_and_in_order,
        publishing_without_subscribers_is_fine,
    );

    #[tokio::test]
    async fn redis_nodes_sharing_a_prefix_see_each_others_events() {
        let prefix = test_support::unique_prefix();
        let node_a = redis_bus(&prefix).await;
        let node_b = redis_bus(&prefix).await;
        let stranger = redis_bus(&test_support::unique_prefix()).await;
        let mut on_a = node_a.subscribe();
        let mut on_b = node_b.subscribe();
        let mut on_stranger = stranger.subscribe();

        let sent = event("order:ord_3", 3);
        node_a.publish(&sent).await.unwrap();
        assert_eq!(next(&mut on_b).await, sent, "the other node receives it");
        assert_eq!(
            next(&mut on_a).await,
            sent,
            "and so does the publishing node"
        );

        sleep(Duration::from_millis(300)).await;
        assert_eq!(
            on_stranger.try_recv(),
            Err(TryRecvError::Empty),
            "another prefix is another deployment"
        );
    }

    #[tokio::test]
    async fn redis_heartbeats_keep_a_healthy_subscription() {
        let (client, conn) = test_support::connect().await;
        let timing = RelayTiming {
            heartbeat: Duration::from_millis(20),
            ..RelayTiming::PRODUCTION
        };
        let bus = RedisEventBus::start_with(client, conn, &test_support::unique_prefix(), timing)
            .await
            .unwrap();
        let mut rx = bus.subscribe();
        sleep(Duration::from_millis(300)).await;
        let sent = event("order:ord_4", 4);
        bus.publish(&sent).await.unwrap();
        assert_eq!(next(&mut rx).await, sent);
        assert_eq!(
            bus.reconnects(),
            0,
            "PINGs on a subscribed connection are answered"
        );
    }

    /// A TCP relay in front of Redis whose connections the test can cut, to simulate a network
    /// failure between one node and Redis without touching anyone else's connections.
    struct CuttableLink {
        port: u16,
        connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
        acceptor: JoinHandle<()>,
    }

    impl CuttableLink {
        async fn to(upstream: (String, u16)) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let connections = Arc::new(Mutex::new(Vec::new()));
            let registry = Arc::clone(&connections);
            let acceptor = tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let upstream = upstream.clone();
                    let pipe = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                            let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    registry.lock().unwrap().push(pipe);
                }
            });
            Self {
                port,
                connections,
                acceptor,
            }
        }

        /// Closes every connection made so far; new ones still go through.
        fn cut(&self) {
            for pipe in self.connections.lock().unwrap().drain(..) {
                pipe.abort();
            }
        }
    }

    impl Drop for CuttableLink {
        fn drop(&mut self) {
            self.acceptor.abort();
            self.cut();
        }
    }

    #[tokio::test]
    async fn redis_subscription_is_restored_after_the_connection_drops() {
        let (direct_client, direct_conn) = test_support::connect().await;
        let info = direct_client.get_connection_info().clone();
        let redis::ConnectionAddr::Tcp(host, port) = info.addr().clone() else {
            panic!("this test needs OTCPAY_TEST_REDIS_URL to be a plain TCP redis:// URL");
        };
        let link = CuttableLink::to((host, port)).await;
        let linked_client = redis::Client::open(
            info.set_addr(redis::ConnectionAddr::Tcp("127.0.0.1".into(), link.port)),
        )
        .unwrap();
        let linked_conn = crate::infra::redis::connection_manager(&linked_client)
            .await
            .unwrap();

        let prefix = test_support::unique_prefix();
        let listener = RedisEventBus::start(linked_client, linked_conn, &prefix)
            .await
            .unwrap();
        let publisher = RedisEventBus::start(direct_client, direct_conn, &prefix)
            .await
            .unwrap();
        let mut rx = listener.subscribe();
        publisher.publish(&event("order:ord_5", 0)).await.unwrap();
        assert_eq!(next(&mut rx).await, event("order:ord_5", 0));

        link.cut();
        // Events published during the gap are lost by design; keep publishing until one lands.
        let deadline = Instant::now() + PATIENCE;
        let mut n = 1;
        let received = loop {
            assert!(
                Instant::now() < deadline,
                "subscription not restored in {PATIENCE:?}"
            );
            publisher.publish(&event("order:ord_5", n)).await.unwrap();
            if let Ok(Ok(received)) = timeout(Duration::from_millis(100), rx.recv()).await {
                break received;
            }
            n += 1;
        };
        assert_eq!(received.topic, "order:ord_5");
        assert!(listener.reconnects() >= 1);
    }

    #[test]
    fn events_round_trip_through_json() {
        let sent = event("acceptor:acc_9", 9);
        let json = serde_json::to_string(&sent).unwrap();
        assert_eq!(serde_json::from_str::<BusEvent>(&json).unwrap(), sent);
    }
}
