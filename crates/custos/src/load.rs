//! `custos load`: a load generator for a running server. It prepares
//! simulator events in NDJSON batches first (so generation is not measured),
//! then posts them from several threads over keep-alive connections and
//! reports throughput and batch latency.

use anyhow::{Context as _, bail};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct LoadOptions {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Bearer token with the `ingest` scope (or `CUSTOS_LOAD_TOKEN`).
    #[arg(long, env = "CUSTOS_LOAD_TOKEN", hide_env_values = true)]
    pub token: String,
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    #[arg(long, default_value_t = 1_000)]
    pub batch: usize,
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Simulator seed of the events sent.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// `events`: NDJSON batches to `POST /v1/events`; `actions`: one
    /// simulated customer action per request to `POST /v1/actions/evaluate`;
    /// `access`: one simulated agent lookup per request to `POST /v1/access`
    /// (for both, `--events` is the number of requests, `--batch` is ignored).
    #[arg(long, value_enum, default_value_t = LoadTarget::Events)]
    pub target: LoadTarget,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LoadTarget {
    Events,
    Actions,
    /// One simulated agent lookup per request to `POST /v1/access` (send
    /// the same seed's events first, so agents and tickets are known).
    Access,
}

/// Simulated agent lookups on tickets as `POST /v1/access` bodies.
pub fn prepare_access(count: u64, seed: u64) -> anyhow::Result<Vec<String>> {
    let sim = custos_sim::Simulator::new(custos_sim::SimConfig {
        seed,
        days: 3650,
        ..Default::default()
    })
    .context("cannot start the simulator")?;
    let mut bodies = Vec::with_capacity(count as usize);
    for line in sim {
        if bodies.len() as u64 >= count {
            break;
        }
        if !line.contains("\"agent_access\"") {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line)?;
        if value["ticket_id"].is_null() || value["customer_id"].is_null() {
            continue;
        }
        bodies.push(
            serde_json::json!({
                "agent": value["agent_id"],
                "customer": value["customer_id"],
                "ticket": value["ticket_id"],
                "fields": value["fields"],
                "purpose": "support",
                "action": value["action"],
            })
            .to_string(),
        );
    }
    Ok(bodies)
}

/// Simulated customer actions as `POST /v1/actions/evaluate` bodies: no
/// `ts` (the server decides at its own clock), no `id`, no `type`.
pub fn prepare_actions(count: u64, seed: u64) -> anyhow::Result<Vec<String>> {
    let sim = custos_sim::Simulator::new(custos_sim::SimConfig {
        seed,
        days: 3650,
        ..Default::default()
    })
    .context("cannot start the simulator")?;
    let mut bodies = Vec::with_capacity(count as usize);
    for line in sim {
        if bodies.len() as u64 >= count {
            break;
        }
        if !line.contains("\"customer_action\"") {
            continue;
        }
        let mut value: serde_json::Value = serde_json::from_str(&line)?;
        if let Some(object) = value.as_object_mut() {
            for key in ["ts", "id", "type"] {
                object.remove(key);
            }
        }
        bodies.push(value.to_string());
    }
    Ok(bodies)
}

pub struct LoadReport {
    pub events: u64,
    pub batches: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    pub concurrency: usize,
    pub batch: usize,
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = self.events as f64 / self.elapsed.as_secs_f64();
        write!(
            f,
            "custos load: {} events in {} batches of {} from {} connections in {:.2} s: {:.0} events/s; batch latency p50 {:.1} ms, p99 {:.1} ms (a batch of 1 is one decision request)",
            self.events,
            self.batches,
            self.batch,
            self.concurrency,
            self.elapsed.as_secs_f64(),
            rate,
            percentile(&self.latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&self.latencies, 0.99).as_secs_f64() * 1e3,
        )
    }
}

pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Simulator events as NDJSON bodies of `batch` events each.
pub fn prepare_batches(events: u64, batch: usize, seed: u64) -> anyhow::Result<Vec<String>> {
    let sim = custos_sim::Simulator::new(custos_sim::SimConfig {
        seed,
        days: 3650,
        ..Default::default()
    })
    .context("cannot start the simulator")?;
    let mut batches = Vec::new();
    let mut body = String::with_capacity(batch * 300);
    let mut in_body = 0;
    for line in sim.take(events as usize) {
        body.push_str(&line);
        body.push('\n');
        in_body += 1;
        if in_body == batch {
            batches.push(std::mem::replace(
                &mut body,
                String::with_capacity(batch * 300),
            ));
            in_body = 0;
        }
    }
    if in_body > 0 {
        batches.push(body);
    }
    Ok(batches)
}

/// Posts `body`; the response text of a 2xx, an error otherwise.
fn post(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
    content_type: &str,
    body: &str,
) -> anyhow::Result<String> {
    let mut response = agent
        .post(url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", content_type)
        .send(body)
        .with_context(|| format!("cannot reach `{url}`"))?;
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .context("cannot read the response")?;
    if !status.is_success() {
        bail!("`{url}` answered {status}: {text}");
    }
    Ok(text)
}

/// Posts one NDJSON batch; returns the number of accepted events.
pub fn post_batch(agent: &ureq::Agent, url: &str, token: &str, body: &str) -> anyhow::Result<u64> {
    let text = post(agent, url, token, "application/x-ndjson", body)?;
    let value: serde_json::Value =
        serde_json::from_str(&text).context("the response is not JSON")?;
    value["accepted"]
        .as_u64()
        .context("the response has no `accepted` count")
}

/// Posts one action for a decision; 1 when decided.
pub fn post_decision(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
    body: &str,
) -> anyhow::Result<u64> {
    post(agent, url, token, "application/json", body).map(|_| 1)
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections_per_host(64)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

pub fn run(options: &LoadOptions) -> anyhow::Result<LoadReport> {
    if options.batch == 0 || options.concurrency == 0 {
        bail!("`--batch` and `--concurrency` must be at least 1");
    }
    let (batches, url) = match options.target {
        LoadTarget::Events => (
            prepare_batches(options.events, options.batch, options.seed)?,
            format!("{}/v1/events", options.url.trim_end_matches('/')),
        ),
        LoadTarget::Actions => (
            prepare_actions(options.events, options.seed)?,
            format!("{}/v1/actions/evaluate", options.url.trim_end_matches('/')),
        ),
        LoadTarget::Access => (
            prepare_access(options.events, options.seed)?,
            format!("{}/v1/access", options.url.trim_end_matches('/')),
        ),
    };
    let next = Mutex::new(0usize);
    let latencies = Mutex::new(Vec::with_capacity(batches.len()));
    let accepted = Mutex::new(0u64);
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..options.concurrency)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    let agent = agent();
                    loop {
                        let i = {
                            let mut n = next.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                            let i = *n;
                            *n += 1;
                            i
                        };
                        let Some(body) = batches.get(i) else {
                            return Ok(());
                        };
                        let t = Instant::now();
                        let n = match options.target {
                            LoadTarget::Events => post_batch(&agent, &url, &options.token, body)?,
                            LoadTarget::Actions | LoadTarget::Access => {
                                post_decision(&agent, &url, &options.token, body)?
                            }
                        };
                        let dt = t.elapsed();
                        latencies
                            .lock()
                            .map_err(|_| anyhow::anyhow!("poisoned"))?
                            .push(dt);
                        *accepted.lock().map_err(|_| anyhow::anyhow!("poisoned"))? += n;
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("a load thread panicked"))??;
        }
        Ok(())
    })?;
    let elapsed = started.elapsed();
    let mut latencies = latencies
        .into_inner()
        .map_err(|_| anyhow::anyhow!("poisoned"))?;
    latencies.sort();
    Ok(LoadReport {
        events: accepted
            .into_inner()
            .map_err(|_| anyhow::anyhow!("poisoned"))?,
        batches: batches.len(),
        elapsed,
        latencies,
        concurrency: options.concurrency,
        batch: if options.target == LoadTarget::Events {
            options.batch
        } else {
            1
        },
    })
}
