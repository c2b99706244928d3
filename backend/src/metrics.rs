//! Prometheus metrics in the text exposition format, without a metrics framework.
//!
//! Counters, gauges and histograms are keyed by name and a sorted label set. Request
//! metrics are recorded by the request middleware (`telemetry.rs`); features record
//! their own (`orders_by_state`, `webhook_attempts_total`, …) through the same type.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

type Labels = Vec<(String, String)>;

#[derive(Default)]
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Families {
    counters: BTreeMap<String, BTreeMap<Labels, u64>>,
    gauges: BTreeMap<String, BTreeMap<Labels, f64>>,
    histograms: BTreeMap<String, BTreeMap<Labels, Histogram>>,
    help: BTreeMap<String, &'static str>,
}

#[derive(Default)]
pub struct Metrics {
    families: Mutex<Families>,
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    let mut out: Labels = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    out.sort();
    out
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn render_labels(labels: &Labels, extra: Option<(&str, &str)>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Families) -> R) -> R {
        let mut guard = match self.families.lock() {
            Ok(guard) => guard,
            // A panic while holding the lock leaves plain numbers behind; keep counting.
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    pub fn describe(&self, name: &str, help: &'static str) {
        self.with(|f| {
            f.help.insert(name.to_owned(), help);
        });
    }

    pub fn inc_counter(&self, name: &str, pairs: &[(&str, &str)], by: u64) {
        self.with(|f| {
            *f.counters
                .entry(name.to_owned())
                .or_default()
                .entry(labels(pairs))
                .or_default() += by;
        });
    }

    pub fn set_gauge(&self, name: &str, pairs: &[(&str, &str)], value: f64) {
        self.with(|f| {
            f.gauges
                .entry(name.to_owned())
                .or_default()
                .insert(labels(pairs), value);
        });
    }

    pub fn observe(&self, name: &str, pairs: &[(&str, &str)], seconds: f64) {
        self.with(|f| {
            let histogram = f
                .histograms
                .entry(name.to_owned())
                .or_default()
                .entry(labels(pairs))
                .or_default();
            if histogram.buckets.is_empty() {
                histogram.buckets = vec![0; LATENCY_BUCKETS.len()];
            }
            for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    histogram.buckets[i] += 1;
                }
            }
            histogram.count += 1;
            histogram.sum += seconds;
        });
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = status.to_string();
        self.inc_counter(
            "http_requests_total",
            &[("method", method), ("route", route), ("status", &status)],
            1,
        );
        self.observe(
            "http_request_duration_seconds",
            &[("method", method), ("route", route)],
            elapsed.as_secs_f64(),
        );
    }

    /// The text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        self.with(|f| {
            let mut out = String::new();
            let help = |out: &mut String, name: &str, kind: &str| {
                if let Some(text) = f.help.get(name) {
                    let _ = writeln!(out, "# HELP {name} {text}");
                }
                let _ = writeln!(out, "# TYPE {name} {kind}");
            };
            for (name, series) in &f.counters {
                help(&mut out, name, "counter");
                for (labels, value) in series {
                    let _ = writeln!(out, "{name}{} {value}", render_labels(labels, None));
                }
            }
            for (name, series) in &f.gauges {
                help(&mut out, name, "gauge");
                for (labels, value) in series {
                    let _ = writeln!(out, "{name}{} {value}", render_labels(labels, None));
                }
            }
            for (name, series) in &f.histograms {
                help(&mut out, name, "histogram");
                for (labels, h) in series {
                    for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
                        let le = bound.to_string();
                        let _ = writeln!(
                            out,
                            "{name}_bucket{} {}",
                            render_labels(labels, Some(("le", &le))),
                            h.buckets[i]
                        );
                    }
                    let _ = writeln!(
                        out,
                        "{name}_bucket{} {}",
                        render_labels(labels, Some(("le", "+Inf"))),
                        h.count
                    );
                    let _ = writeln!(out, "{name}_sum{} {}", render_labels(labels, None), h.sum);
                    let _ = writeln!(
                        out,
                        "{name}_count{} {}",
                        render_labels(labels, None),
                        h.count
                    );
                }
            }
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_histograms() {
        let m = Metrics::default();
        m.describe("http_requests_total", "Requests served.");
        m.observe_request("GET", "/healthz", 200, Duration::from_millis(3));
        m.observe_request("GET", "/healthz", 200, Duration::from_millis(30));
        m.set_gauge("ledger_check_ok", &[], 1.0);
        let text = m.render();
        assert!(text.contains("# HELP http_requests_total Requests served."));
        assert!(
            text.contains(
                "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
            )
        );
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 2"
        ));
        assert!(text.contains("ledger_check_ok 1"));
    }
}
