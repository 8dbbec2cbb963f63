//! Counters and gauges of `custos serve`, rendered in the Prometheus text
//! exposition format 0.0.4.
//!
//! Plain atomics, no registry crate: the set of metrics is small and fixed,
//! and both the HTTP edge and the binary's pipeline thread update them
//! without locks (except the per-detector alert counts, a short mutex).

use crate::routes::ROUTES;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The content type of `GET /metrics`.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the commit latency histogram, in seconds.
const COMMIT_BUCKETS: [f64; 14] = [
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Status classes counted per route: 1xx to 5xx.
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Every metric of `custos serve`. Share it as `Arc<Metrics>`.
pub struct Metrics {
    ingest_accepted: AtomicU64,
    ingest_rejected: AtomicU64,
    /// Per entry of [`ROUTES`], then one for requests no route served.
    http_requests: Vec<[AtomicU64; 5]>,
    commit_latency: Histogram,
    commit_events: AtomicU64,
    pipeline_processed: AtomicU64,
    pipeline_lag_events: AtomicU64,
    late_events: AtomicU64,
    alerts_by_detector: Mutex<BTreeMap<String, u64>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics {
            ingest_accepted: AtomicU64::new(0),
            ingest_rejected: AtomicU64::new(0),
            http_requests: (0..=ROUTES.len()).map(|_| Default::default()).collect(),
            commit_latency: Histogram::new(),
            commit_events: AtomicU64::new(0),
            pipeline_processed: AtomicU64::new(0),
            pipeline_lag_events: AtomicU64::new(0),
            late_events: AtomicU64::new(0),
            alerts_by_detector: Mutex::new(BTreeMap::new()),
        }
    }

    // --- updated by the pipeline (the binary) ---

    /// The pipeline has run `events` more events through the detectors.
    pub fn add_pipeline_processed(&self, events: u64) {
        self.pipeline_processed.fetch_add(events, Ordering::Relaxed);
    }

    /// How many stored events the pipeline has yet to process.
    pub fn set_pipeline_lag_events(&self, events: u64) {
        self.pipeline_lag_events.store(events, Ordering::Relaxed);
    }

    /// The pipeline received `events` more events later than the allowed
    /// lateness.
    pub fn add_late_events(&self, events: u64) {
        self.late_events.fetch_add(events, Ordering::Relaxed);
    }

    /// The detector named `detector` raised `alerts` more alerts.
    pub fn add_alerts(&self, detector: &str, alerts: u64) {
        let mut map = self
            .alerts_by_detector
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get_mut(detector) {
            Some(count) => *count += alerts,
            None => {
                map.insert(detector.to_owned(), alerts);
            }
        }
    }

    // --- updated by the HTTP edge ---

    pub(crate) fn add_ingest(&self, accepted: u64, rejected: u64) {
        self.ingest_accepted.fetch_add(accepted, Ordering::Relaxed);
        self.ingest_rejected.fetch_add(rejected, Ordering::Relaxed);
    }

    pub(crate) fn observe_commit(&self, events: usize, took: Duration) {
        self.commit_latency.observe(took);
        self.commit_events
            .fetch_add(events as u64, Ordering::Relaxed);
    }

    /// `route` is an index into [`ROUTES`], or `None` for an unmatched request.
    pub(crate) fn count_request(&self, route: Option<usize>, status: u16) {
        let row = route.unwrap_or(ROUTES.len()).min(ROUTES.len());
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        if let Some(counters) = self.http_requests.get(row) {
            counters[class].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events accepted by `POST /v1/events` since start.
    pub fn ingest_accepted(&self) -> u64 {
        self.ingest_accepted.load(Ordering::Relaxed)
    }

    /// Events rejected by `POST /v1/events` since start.
    pub fn ingest_rejected(&self) -> u64 {
        self.ingest_rejected.load(Ordering::Relaxed)
    }

    /// The exposition text. `store_up` and `pipeline_running` are sampled by
    /// the caller at scrape time.
    pub fn render(&self, store_up: bool, pipeline_running: bool) -> String {
        let mut out = String::with_capacity(4096);
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);

        counter(
            &mut out,
            "custos_ingest_events_accepted_total",
            "Events accepted by POST /v1/events and durably stored.",
            load(&self.ingest_accepted),
        );
        counter(
            &mut out,
            "custos_ingest_events_rejected_total",
            "Events rejected by POST /v1/events (invalid, or too far in the future).",
            load(&self.ingest_rejected),
        );
        counter(
            &mut out,
            "custos_ingest_commit_events_total",
            "Events written by group commits of the ingest thread.",
            load(&self.commit_events),
        );
        self.commit_latency.render(
            &mut out,
            "custos_ingest_commit_duration_seconds",
            "Time of one durable group commit (append_events call) of the ingest thread.",
        );

        let name = "custos_http_requests_total";
        header(
            &mut out,
            name,
            "HTTP requests answered, by route and status class.",
            "counter",
        );
        for (row, counters) in self.http_requests.iter().enumerate() {
            let (method, path) = match ROUTES.get(row) {
                Some(route) => (route.method.as_str(), route.path),
                None => ("", "unmatched"),
            };
            for (class, count) in STATUS_CLASSES.iter().zip(counters) {
                let _ = writeln!(
                    out,
                    "{name}{{method=\"{method}\",route=\"{}\",status=\"{class}\"}} {}",
                    escape_label(path),
                    load(count)
                );
            }
        }

        counter(
            &mut out,
            "custos_pipeline_processed_events_total",
            "Events the detection pipeline has processed.",
            load(&self.pipeline_processed),
        );
        gauge(
            &mut out,
            "custos_pipeline_lag_events",
            "Stored events the detection pipeline has not processed yet.",
            load(&self.pipeline_lag_events),
        );
        counter(
            &mut out,
            "custos_pipeline_late_events_total",
            "Events that arrived later than the allowed lateness.",
            load(&self.late_events),
        );
        gauge(
            &mut out,
            "custos_pipeline_running",
            "1 when the detection pipeline is running.",
            u64::from(pipeline_running),
        );

        let name = "custos_alerts_total";
        header(&mut out, name, "Alerts raised, by detector.", "counter");
        {
            let map = self
                .alerts_by_detector
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (detector, count) in map.iter() {
                let _ = writeln!(
                    out,
                    "{name}{{detector=\"{}\"}} {count}",
                    escape_label(detector)
                );
            }
        }

        gauge(
            &mut out,
            "custos_store_up",
            "1 when the store answered a ping at scrape time.",
            u64::from(store_up),
        );
        out
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, help, "counter");
    let _ = writeln!(out, "{name} {value}");
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    header(out, name, help, "gauge");
    let _ = writeln!(out, "{name} {value}");
}

/// Label values escape `\`, `"` and line feeds (exposition format 0.0.4).
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A fixed-bucket histogram of durations.
struct Histogram {
    /// Non-cumulative counts; the last slot is `+Inf`.
    buckets: [AtomicU64; COMMIT_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            buckets: Default::default(),
            sum_nanos: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let slot = COMMIT_BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(COMMIT_BUCKETS.len());
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        header(out, name, help, "histogram");
        let mut cumulative = 0;
        for (bound, count) in COMMIT_BUCKETS.iter().zip(&self.buckets) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.buckets[COMMIT_BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {}", self.count.load(Ordering::Relaxed));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn sample(text: &str, series: &str) -> Option<String> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map(str::to_owned)
    }

    #[test]
    fn pipeline_updates_show_up_in_the_exposition() {
        let metrics = Metrics::new();
        metrics.add_pipeline_processed(5);
        metrics.add_pipeline_processed(2);
        metrics.set_pipeline_lag_events(40);
        metrics.set_pipeline_lag_events(3);
        metrics.add_late_events(4);
        metrics.add_alerts("agent_behavior", 2);
        metrics.add_alerts("agent_behavior", 1);
        metrics.add_alerts("odd\"name", 1);
        let text = metrics.render(true, false);
        let check = |series: &str, value: &str| {
            assert_eq!(
                sample(&text, series).as_deref(),
                Some(value),
                "{series}\n{text}"
            );
        };
        check("custos_pipeline_processed_events_total", "7");
        check("custos_pipeline_lag_events", "3");
        check("custos_pipeline_late_events_total", "4");
        check("custos_alerts_total{detector=\"agent_behavior\"}", "3");
        check("custos_alerts_total{detector=\"odd\\\"name\"}", "1");
        check("custos_store_up", "1");
        check("custos_pipeline_running", "0");
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let metrics = Metrics::new();
        metrics.observe_commit(10, Duration::from_micros(300));
        metrics.observe_commit(20, Duration::from_millis(3));
        metrics.observe_commit(30, Duration::from_secs(60));
        let text = metrics.render(false, true);
        let name = "custos_ingest_commit_duration_seconds";
        let check = |series: &str, value: &str| {
            assert_eq!(
                sample(&text, series).as_deref(),
                Some(value),
                "{series}\n{text}"
            );
        };
        check(&format!("{name}_bucket{{le=\"0.0005\"}}"), "1");
        check(&format!("{name}_bucket{{le=\"0.001\"}}"), "1");
        check(&format!("{name}_bucket{{le=\"0.005\"}}"), "2");
        check(&format!("{name}_bucket{{le=\"10\"}}"), "2");
        check(&format!("{name}_bucket{{le=\"+Inf\"}}"), "3");
        check(&format!("{name}_count"), "3");
        check("custos_ingest_commit_events_total", "60");
        check("custos_store_up", "0");
    }

    #[test]
    fn requests_are_counted_by_route_and_class() {
        let metrics = Metrics::new();
        metrics.count_request(Some(0), 200);
        metrics.count_request(Some(0), 204);
        metrics.count_request(Some(0), 503);
        metrics.count_request(None, 404);
        let text = metrics.render(true, true);
        let route = &ROUTES[0];
        let series = |class: &str| {
            format!(
                "custos_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{class}\"}}",
                route.method.as_str(),
                route.path
            )
        };
        assert_eq!(sample(&text, &series("2xx")).as_deref(), Some("2"));
        assert_eq!(sample(&text, &series("5xx")).as_deref(), Some("1"));
        assert_eq!(sample(&text, &series("4xx")).as_deref(), Some("0"));
        assert_eq!(
            sample(
                &text,
                "custos_http_requests_total{method=\"\",route=\"unmatched\",status=\"4xx\"}"
            )
            .as_deref(),
            Some("1")
        );
    }

    #[test]
    fn every_sample_line_follows_its_type_line() {
        let text = Metrics::new().render(true, true);
        let mut declared = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.insert(rest.split(' ').next().unwrap().to_owned());
            } else if !line.starts_with('#') {
                let series = line.split(['{', ' ']).next().unwrap();
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|suffix| series.strip_suffix(suffix))
                    .filter(|family| declared.contains(*family))
                    .unwrap_or(series);
                assert!(declared.contains(family), "{line}");
                let value = line.rsplit(' ').next().unwrap();
                assert!(value.parse::<f64>().is_ok(), "{line}");
            }
        }
    }
}
