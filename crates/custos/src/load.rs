//! `custos load`: a load generator for a running server. It prepares
//! simulator events in NDJSON batches first (so generation is not measured),
//! then posts them from several threads over keep-alive connections and
//! reports throughput and batch latency.
//!
//! Two clients: `ureq` (any URL), and `raw` (plain `http://` only), a
//! minimal HTTP/1.1 keep-alive client that writes each request in one
//! `write` and reads exactly `Content-Length` bytes back. The generator runs
//! on the machine it measures, so every microsecond it spends is taken from
//! the server; `raw` costs a fraction of `ureq` per request (measured
//! side by side in docs/BENCHMARKS.md).

use anyhow::{Context as _, bail};
use std::fmt;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
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
    /// `access`: how many of the seed's events the server was sent first
    /// (`custos load --target events --events N`): lookups are taken on
    /// tickets still open at that point.
    #[arg(long, default_value_t = 300_000)]
    pub prefix: u64,
    /// The HTTP client: `raw` (lean, `http://` only) or `ureq`.
    #[arg(long, value_enum, default_value_t = LoadClient::Raw)]
    pub client: LoadClient,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LoadClient {
    Raw,
    Ureq,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LoadTarget {
    Events,
    Actions,
    /// One simulated agent lookup per request to `POST /v1/access` (send
    /// the same seed's first `--prefix` events first, so agents and tickets
    /// are known; the customers read get made-up PII in the vault before
    /// the clock starts, which needs the `admin` scope).
    Access,
}

/// `POST /v1/access` bodies, and the customers they read.
pub struct AccessLoad {
    pub bodies: Vec<String>,
    pub customers: Vec<String>,
}

/// Simulated agent lookups that the broker should serve: the lookups in
/// the seed's first `prefix` events (the events the server was sent)
/// whose ticket is, at the end of that prefix, still open and assigned to
/// the agent looking. Repeated in order up to `count` requests. Lookups
/// on closed tickets would measure the cheapest path, a denial.
pub fn prepare_access(count: u64, seed: u64, prefix: u64) -> anyhow::Result<AccessLoad> {
    let sim = custos_sim::Simulator::new(custos_sim::SimConfig {
        seed,
        days: 3650,
        ..Default::default()
    })
    .context("cannot start the simulator")?;
    // ticket -> (closed, assignee)
    let mut tickets: std::collections::HashMap<String, (bool, Option<String>)> =
        std::collections::HashMap::new();
    let mut lookups = Vec::new();
    for line in sim.take(prefix as usize) {
        let is_ticket = line.contains("\"type\":\"ticket\"");
        if !is_ticket && !line.contains("\"agent_access\"") {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(&line)?;
        let Some(ticket) = value["ticket_id"].as_str() else {
            continue;
        };
        if is_ticket {
            let entry = tickets.entry(ticket.to_owned()).or_default();
            entry.0 = value["status"] == "closed";
            entry.1 = value["agent_id"].as_str().map(str::to_owned);
        } else if value["customer_id"].is_string() {
            lookups.push(value);
        }
    }
    let served: Vec<&serde_json::Value> = lookups
        .iter()
        .filter(|v| {
            let ticket = v["ticket_id"].as_str().unwrap_or_default();
            tickets.get(ticket).is_some_and(|(closed, assignee)| {
                !closed && assignee.as_deref() == v["agent_id"].as_str()
            })
        })
        .collect();
    if served.is_empty() {
        bail!("no lookup in the first {prefix} events of seed {seed} is on a ticket still open");
    }
    let mut customers: Vec<String> = served
        .iter()
        .filter_map(|v| v["customer_id"].as_str().map(str::to_owned))
        .collect();
    customers.sort();
    customers.dedup();
    let bodies = served
        .iter()
        .cycle()
        .take(count as usize)
        .map(|v| {
            serde_json::json!({
                "agent": v["agent_id"],
                "customer": v["customer_id"],
                "ticket": v["ticket_id"],
                "fields": v["fields"],
                "purpose": "support",
                "action": v["action"],
            })
            .to_string()
        })
        .collect();
    Ok(AccessLoad { bodies, customers })
}

/// Made-up PII for `customer`, every vault class (`POST /v1/vault/customers`).
fn synthetic_pii(customer: &str) -> String {
    let n: u64 = customer
        .bytes()
        .fold(7, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    serde_json::json!({
        "customer": customer,
        "fields": {
            "name": format!("Customer {}", n % 100_000),
            "email": format!("{customer}@mail.example"),
            "phone": format!("+1555{:07}", n % 10_000_000),
            "address": format!("{} Example Street, Springfield", n % 999 + 1),
            "dob": format!("19{:02}-0{}-1{}", 50 + n % 50, 1 + n % 9, n % 10),
            "id_document": format!("passport P{:08}", n % 100_000_000),
            "national_id": format!("{:03}-{:02}-{:04}", n % 900 + 100, n % 90 + 10, n % 9000 + 1000),
            "bank_account": format!("GB29NWBK6016{:010}", n % 10_000_000_000),
        }
    })
    .to_string()
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
    pub target: LoadTarget,
    /// Outcomes tallied from the answers (see `tally`).
    pub outcomes: [u64; 4],
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
        )?;
        let [a, b, c, d] = self.outcomes;
        match self.target {
            LoadTarget::Events => Ok(()),
            LoadTarget::Access => write!(
                f,
                "; fields hidden {}, masked {}, revealed {}",
                a / 2,
                b / 2,
                c / 2
            ),
            LoadTarget::Actions => {
                write!(f, "; decisions allow {a}, step_up {b}, hold {c}, deny {d}")
            }
        }
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

/// A plain-HTTP/1.1 keep-alive connection: one request in flight.
pub struct RawConnection {
    addr: String,
    host: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl RawConnection {
    /// `url` must be `http://host[:port]`.
    pub fn new(url: &str) -> anyhow::Result<RawConnection> {
        let rest = url
            .strip_prefix("http://")
            .context("`--client raw` speaks plain `http://` only; use `--client ureq`")?;
        let host = rest.split('/').next().unwrap_or(rest).to_owned();
        if host.is_empty() {
            bail!("no host in `{url}`");
        }
        let addr = if host.contains(':') {
            host.clone()
        } else {
            format!("{host}:80")
        };
        Ok(RawConnection {
            addr,
            host,
            stream: None,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    /// POSTs `body` to `path`; the status and the response body.
    pub fn post(
        &mut self,
        path: &str,
        token: &str,
        content_type: &str,
        body: &str,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        // A kept-alive connection the server closed meanwhile is retried
        // once on a fresh one.
        for attempt in 0..2 {
            let fresh = self.stream.is_none();
            match self.exchange(path, token, content_type, body) {
                Ok(answer) => return Ok(answer),
                Err(e) if attempt == 0 && !fresh => {
                    self.stream = None;
                    tracing::debug!(error = %e, "reconnecting");
                }
                Err(e) => return Err(e),
            }
        }
        bail!("no answer from `{}`", self.addr)
    }

    fn exchange(
        &mut self,
        path: &str,
        token: &str,
        content_type: &str,
        body: &str,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.addr)
                .with_context(|| format!("cannot reach `{}`", self.addr))?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(Duration::from_secs(120)))?;
            self.stream = Some(stream);
        }
        let Some(stream) = self.stream.as_mut() else {
            bail!("no connection");
        };
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body.as_bytes());
        stream.write_all(&request)?;
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        let header_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                bail!("the server closed the connection");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let head = std::str::from_utf8(&self.buf[..header_end]).context("response head")?;
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no status in the response")?;
        let mut length = None;
        let mut close = false;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                bail!(
                    "`--client raw` does not read `transfer-encoding: {value}`; use `--client ureq`"
                );
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let length = length.context("the response has no content-length")?;
        while self.buf.len() < header_end + length {
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                bail!("the server closed the connection mid-body");
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let answer = self.buf[header_end..header_end + length].to_vec();
        if close {
            self.stream = None;
        }
        Ok((status, answer))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One worker's client.
enum Client {
    Ureq(ureq::Agent),
    Raw(RawConnection),
}

impl Client {
    /// Posts `body`; the response body of a 2xx, an error otherwise.
    fn post(
        &mut self,
        url: &str,
        path: &str,
        token: &str,
        target: LoadTarget,
        body: &str,
    ) -> anyhow::Result<Vec<u8>> {
        let content_type = if target == LoadTarget::Events {
            "application/x-ndjson"
        } else {
            "application/json"
        };
        match self {
            Client::Ureq(agent) => {
                post(agent, url, token, content_type, body).map(String::into_bytes)
            }
            Client::Raw(connection) => {
                let (status, answer) = connection.post(path, token, content_type, body)?;
                if !(200..300).contains(&status) {
                    bail!(
                        "`{url}` answered {status}: {}",
                        String::from_utf8_lossy(&answer)
                    );
                }
                Ok(answer)
            }
        }
    }
}

/// What one answer counts: events accepted (a batch), or 1 (a decision).
fn accepted_by(target: LoadTarget, answer: &[u8]) -> anyhow::Result<u64> {
    if target != LoadTarget::Events {
        return Ok(1);
    }
    let value: serde_json::Value =
        serde_json::from_slice(answer).context("the response is not JSON")?;
    value["accepted"]
        .as_u64()
        .context("the response has no `accepted` count")
}

/// Tallies the outcomes a decision answer names, without parsing it (the
/// generator's CPU is the server's loss): each field's outcome for access
/// (`hidden`, `masked`, `revealed`; named twice in an answer, in
/// `decision.fields` and in `values`), the decision's for actions
/// (`allow`, `step_up`, `hold`, `deny`).
fn tally(target: LoadTarget, answer: &[u8], counts: &mut [u64; 4]) {
    let needles: &[&str] = match target {
        LoadTarget::Events => return,
        LoadTarget::Access => &[
            r#""outcome":"hidden""#,
            r#""outcome":"masked""#,
            r#""outcome":"revealed""#,
        ],
        LoadTarget::Actions => &[
            r#""outcome":"allow""#,
            r#""outcome":"step_up""#,
            r#""outcome":"hold""#,
            r#""outcome":"deny""#,
        ],
    };
    let text = String::from_utf8_lossy(answer);
    for (slot, needle) in needles.iter().enumerate() {
        counts[slot] += text.matches(needle).count() as u64;
    }
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
    let (batches, path) = match options.target {
        LoadTarget::Events => (
            prepare_batches(options.events, options.batch, options.seed)?,
            "/v1/events",
        ),
        LoadTarget::Actions => (
            prepare_actions(options.events, options.seed)?,
            "/v1/actions/evaluate",
        ),
        LoadTarget::Access => {
            let load = prepare_access(options.events, options.seed, options.prefix)?;
            let vault = format!("{}/v1/vault/customers", options.url.trim_end_matches('/'));
            let agent = agent();
            for customer in &load.customers {
                post(
                    &agent,
                    &vault,
                    &options.token,
                    "application/json",
                    &synthetic_pii(customer),
                )
                .context("cannot put the customers read into the vault")?;
            }
            (load.bodies, "/v1/access")
        }
    };
    let base = options.url.trim_end_matches('/');
    let url = format!("{base}{path}");
    if options.client == LoadClient::Raw {
        // Fail before the clock starts, not in every worker.
        RawConnection::new(base)?;
    }
    let next = Mutex::new(0usize);
    let latencies = Mutex::new(Vec::with_capacity(batches.len()));
    let accepted = Mutex::new(0u64);
    let outcomes = Mutex::new([0u64; 4]);
    let started = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..options.concurrency)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    let mut client = match options.client {
                        LoadClient::Ureq => Client::Ureq(agent()),
                        LoadClient::Raw => Client::Raw(RawConnection::new(base)?),
                    };
                    let mut counts = [0u64; 4];
                    loop {
                        let i = {
                            let mut n = next.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                            let i = *n;
                            *n += 1;
                            i
                        };
                        let Some(body) = batches.get(i) else {
                            let mut all =
                                outcomes.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
                            for (sum, n) in all.iter_mut().zip(counts) {
                                *sum += n;
                            }
                            return Ok(());
                        };
                        let t = Instant::now();
                        let answer =
                            client.post(&url, path, &options.token, options.target, body)?;
                        let dt = t.elapsed();
                        let n = accepted_by(options.target, &answer)?;
                        tally(options.target, &answer, &mut counts);
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
        target: options.target,
        outcomes: outcomes
            .into_inner()
            .map_err(|_| anyhow::anyhow!("poisoned"))?,
        batch: if options.target == LoadTarget::Events {
            options.batch
        } else {
            1
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod raw_tests {
    use super::*;
    use std::io::{BufRead as _, BufReader};
    use std::net::TcpListener;

    /// Serves `answers` per connection, one per request, then closes it;
    /// returns the requests' bodies as seen.
    fn server(answers: Vec<Vec<&'static str>>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for per_connection in answers {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                for answer in per_connection {
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    seen.push(String::from_utf8(body).unwrap());
                    writer.write_all(answer.as_bytes()).unwrap();
                }
            }
            seen
        });
        (base, handle)
    }

    #[test]
    fn the_raw_client_keeps_the_connection_and_reconnects_when_the_server_closed_it() {
        let ok = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 14\r\n\r\n{\"accepted\":3}";
        let (base, handle) = server(vec![vec![ok, ok], vec![ok]]);
        let mut connection = RawConnection::new(&base).unwrap();
        for body in ["a", "bb", "ccc"] {
            let (status, answer) = connection
                .post("/v1/events", "t", "application/x-ndjson", body)
                .unwrap();
            assert_eq!(status, 200);
            assert_eq!(answer, b"{\"accepted\":3}");
        }
        assert_eq!(handle.join().unwrap(), ["a", "bb", "ccc"]);
    }

    #[test]
    fn outcomes_are_tallied_per_field_and_per_decision() {
        let mut counts = [0; 4];
        let access = br#"{"decision":{"fields":[{"outcome":"masked"},{"outcome":"hidden"}]},"values":[{"outcome":"masked"},{"outcome":"hidden"}]}"#;
        tally(LoadTarget::Access, access, &mut counts);
        assert_eq!(counts, [2, 2, 0, 0], "each field is named twice");
        let mut counts = [0; 4];
        tally(
            LoadTarget::Actions,
            br#"{"decision":{"outcome":"hold"}}"#,
            &mut counts,
        );
        tally(
            LoadTarget::Actions,
            br#"{"decision":{"outcome":"step_up"}}"#,
            &mut counts,
        );
        assert_eq!(counts, [0, 1, 1, 0]);
        tally(LoadTarget::Events, br#"{"accepted":3}"#, &mut counts);
        assert_eq!(counts, [0, 1, 1, 0]);
    }

    #[test]
    fn the_raw_client_refuses_what_it_cannot_read() {
        let chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n";
        let (base, handle) = server(vec![vec![chunked]]);
        let mut connection = RawConnection::new(&base).unwrap();
        let err = connection
            .post("/v1/access", "t", "application/json", "{}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("--client ureq"), "{err}");
        handle.join().unwrap();
        let err = RawConnection::new("https://custos.example")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("http://"), "{err}");
    }
}
