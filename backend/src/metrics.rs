//! Prometheus metrics (`GET /metrics`, text format 0.0.4), through `prometheus-client`.
//!
//! Every metric is a typed family registered once, when [`Metrics`] is built, with its
//! help text; its labels are a struct of `&'static str` and integers, so recording one
//! (a request, a webhook attempt, …) is an atomic add behind a shared read lock and
//! allocates nothing. Features record through the named methods below; the request
//! middleware (`telemetry.rs`) calls [`Metrics::observe_request`]. Must not hold
//! anything but numbers: the routes it labels are the router's patterns, never paths.

use std::collections::HashSet;
use std::sync::{LazyLock, RwLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::render`].
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Upper bounds of the latency histogram buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PurposeLabels {
    purpose: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NetworkLabels {
    network: &'static str,
}

/// No label; used where a series must stay absent until its first value.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NoLabels {}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS.iter().copied())
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: LatencyFamily,
    order_write_batches: Counter,
    orders_group_committed: Counter,
    second_factor_lockouts: Family<PurposeLabels, Counter>,
    webhook_attempts: Family<ResultLabels, Counter>,
    mail_sent: Family<KindLabels, Counter>,
    ledger_check_ok: Family<NoLabels, Gauge>,
    chain_head: Family<NetworkLabels, Gauge>,
    chain_last_scanned: Family<NetworkLabels, Gauge>,
    chain_blocks_behind: Family<NetworkLabels, Gauge>,
    chain_rpc_errors: Family<NetworkLabels, Counter>,
    chain_deposits_credited: Family<NetworkLabels, Counter>,
    chain_transfers_vanished: Family<NetworkLabels, Counter>,
    chain_halted: Family<NetworkLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let metrics = Self {
            registry: Registry::default(),
            requests: Family::default(),
            request_duration: Family::new_with_constructor(latency_histogram),
            order_write_batches: Counter::default(),
            orders_group_committed: Counter::default(),
            second_factor_lockouts: Family::default(),
            webhook_attempts: Family::default(),
            mail_sent: Family::default(),
            ledger_check_ok: Family::default(),
            chain_head: Family::default(),
            chain_last_scanned: Family::default(),
            chain_blocks_behind: Family::default(),
            chain_rpc_errors: Family::default(),
            chain_deposits_credited: Family::default(),
            chain_transfers_vanished: Family::default(),
            chain_halted: Family::default(),
        };
        metrics.registered()
    }
}

impl Metrics {
    fn registered(mut self) -> Self {
        let r = &mut self.registry;
        // Counters are registered without `_total` (the encoder appends it) and help
        // texts without their final full stop (the registry appends it).
        r.register(
            "http_requests",
            "HTTP requests served, by route and status",
            self.requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "HTTP request latency, by route",
            self.request_duration.clone(),
        );
        r.register(
            "order_write_batches",
            "Transactions that wrote new matched orders (group commit); with \
             orders_group_committed_total it gives the mean batch size",
            self.order_write_batches.clone(),
        );
        r.register(
            "orders_group_committed",
            "New matched orders written by those transactions",
            self.orders_group_committed.clone(),
        );
        r.register(
            "second_factor_lockouts",
            "Users whose second factor was locked after repeated wrong codes, by purpose",
            self.second_factor_lockouts.clone(),
        );
        r.register(
            "webhook_attempts",
            "Webhook delivery attempts, by result (success or failure)",
            self.webhook_attempts.clone(),
        );
        r.register(
            "mail_sent",
            "Mails delivered to the SMTP server or written to the mail folder, by kind",
            self.mail_sent.clone(),
        );
        r.register(
            "ledger_check_ok",
            "1 when the last ledger invariant check found no violation, else 0",
            self.ledger_check_ok.clone(),
        );
        r.register(
            "chain_head_block",
            "The newest block the network's node reported, by network",
            self.chain_head.clone(),
        );
        r.register(
            "chain_last_scanned_block",
            "The last block the deposit watcher took in, by network",
            self.chain_last_scanned.clone(),
        );
        r.register(
            "chain_blocks_behind",
            "Blocks between the node's head and the last block taken in, by network",
            self.chain_blocks_behind.clone(),
        );
        r.register(
            "chain_rpc_errors",
            "Failed scans of a network (node unreachable or answering errors), by network",
            self.chain_rpc_errors.clone(),
        );
        r.register(
            "chain_deposits_credited",
            "On-chain transfers credited after their confirmations, by network",
            self.chain_deposits_credited.clone(),
        );
        r.register(
            "chain_transfers_vanished",
            "Credited transfers whose block left the chain (listed for review), by network",
            self.chain_transfers_vanished.clone(),
        );
        r.register(
            "chain_halted",
            "1 while the watcher is stopped on a network by a reorganisation deeper than it follows",
            self.chain_halted.clone(),
        );
        self
    }

    /// A scan of `network` ended: the node's head and the last block taken in.
    pub fn chain_scanned(&self, network: &'static str, head: u64, last: u64, halted: bool) {
        let labels = NetworkLabels { network };
        let as_gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.chain_head.get_or_create(&labels).set(as_gauge(head));
        self.chain_last_scanned
            .get_or_create(&labels)
            .set(as_gauge(last));
        self.chain_blocks_behind
            .get_or_create(&labels)
            .set(as_gauge(head.saturating_sub(last)));
        self.chain_halted
            .get_or_create(&labels)
            .set(i64::from(halted));
    }

    /// A scan of `network` failed.
    pub fn chain_rpc_error(&self, network: &'static str) {
        self.chain_rpc_errors
            .get_or_create(&NetworkLabels { network })
            .inc();
    }

    /// A scan of `network` credited `credited` transfers and found `vanished` credits.
    pub fn chain_applied(&self, network: &'static str, credited: u64, vanished: u64) {
        let labels = NetworkLabels { network };
        self.chain_deposits_credited
            .get_or_create(&labels)
            .inc_by(credited);
        self.chain_transfers_vanished
            .get_or_create(&labels)
            .inc_by(vanished);
    }

    /// One served request: `http_requests_total{method,route,status}` and
    /// `http_request_duration_seconds{method,route}`. `route` is the matched pattern
    /// (`/api/v1/orders/{id}`) or `unmatched`.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let route = route_label(route);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
        self.request_duration
            .get_or_create(&RouteLabels { method, route })
            .observe(elapsed.as_secs_f64());
    }

    /// The order writer committed one transaction holding `orders` new orders.
    pub fn order_batch_written(&self, orders: u64) {
        self.order_write_batches.inc();
        self.orders_group_committed.inc_by(orders);
    }

    /// A user's second factor was locked for `purpose`.
    pub fn second_factor_lockout(&self, purpose: &'static str) {
        self.second_factor_lockouts
            .get_or_create(&PurposeLabels { purpose })
            .inc();
    }

    /// One webhook delivery attempt.
    pub fn webhook_attempt(&self, success: bool) {
        let result = if success { "success" } else { "failure" };
        self.webhook_attempts
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    /// One mail of `kind` sent.
    pub fn mail_sent(&self, kind: &'static str) {
        self.mail_sent.get_or_create(&KindLabels { kind }).inc();
    }

    /// The outcome of the last ledger invariant check (absent until the first one).
    pub fn ledger_checked(&self, ok: bool) {
        self.ledger_check_ok
            .get_or_create(&NoLabels {})
            .set(i64::from(ok));
    }

    /// The text exposition format (version 0.0.4, [`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(err) = prometheus_text::encode(&mut out, &self.registry) {
            tracing::error!(error = %err, "encoding the metrics failed");
        }
        out
    }
}

/// The standard methods by name; anything else is one `OTHER` series, so a client
/// inventing methods cannot grow the label set.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "OTHER",
    }
}

/// Route patterns, each kept once for the life of the process: they come from the
/// router (a fixed set, plus `unmatched`), so the set stays as small as the route table.
static ROUTES: LazyLock<RwLock<HashSet<&'static str>>> =
    LazyLock::new(|| RwLock::new(HashSet::new()));

fn route_label(route: &str) -> &'static str {
    let known = match ROUTES.read() {
        Ok(routes) => routes.get(route).copied(),
        Err(poisoned) => poisoned.into_inner().get(route).copied(),
    };
    if let Some(route) = known {
        return route;
    }
    let mut routes = match ROUTES.write() {
        Ok(routes) => routes,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(route) = routes.get(route) {
        return route;
    }
    let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
    routes.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_histograms() {
        let m = Metrics::default();
        m.observe_request("GET", "/healthz", 200, Duration::from_millis(3));
        m.observe_request("GET", "/healthz", 200, Duration::from_millis(30));
        let text = m.render();
        assert!(
            !text.contains("ledger_check_ok "),
            "no gauge before the first check: {text}"
        );
        m.ledger_checked(true);
        m.webhook_attempt(false);
        m.order_batch_written(3);
        let text = m.render();
        assert!(
            text.contains("# HELP http_requests_total HTTP requests served, by route and status.")
        );
        assert!(text.contains("# TYPE http_requests_total counter"));
        assert!(
            text.contains(
                "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 2"
        ));
        assert!(
            text.contains(
                "http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 2"
            )
        );
        assert!(text.contains("ledger_check_ok 1"), "{text}");
        assert!(text.contains("webhook_attempts_total{result=\"failure\"} 1"));
        assert!(text.contains("order_write_batches_total 1"));
        assert!(text.contains("orders_group_committed_total 3"));
    }

    #[test]
    fn label_values_are_shared_not_copied() {
        assert!(std::ptr::eq(route_label("/a/{id}"), route_label("/a/{id}")));
        assert_eq!(method_label("BREW"), "OTHER");
        assert_eq!(method_label("PATCH"), "PATCH");
    }
}
