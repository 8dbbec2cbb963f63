//! `custos replay`: a file (or standard input) through the whole pipeline in
//! event time, alerts out as NDJSON, a summary on standard error.

use crate::config::Settings;
use crate::detectors;
use anyhow::Context as _;
use custos_core::parse::{DEFAULT_MAX_LINE_BYTES, Line, parse_bytes};
use custos_core::pipeline::{Output, PipelineStats};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc;

/// How many rejected lines the summary lists one by one.
const LISTED_REJECTIONS: usize = 50;

/// What a replay saw, for the summary.
#[derive(Debug, Default)]
pub struct ReplaySummary {
    pub lines: u64,
    pub accepted: u64,
    pub rejected: Vec<(u64, String)>,
    pub rejected_total: u64,
    pub stats: PipelineStats,
    pub alerts: u64,
}

pub fn open_input(input: &str) -> anyhow::Result<Box<dyn BufRead + Send>> {
    if input == "-" {
        return Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            std::io::stdin(),
        )));
    }
    let file =
        std::fs::File::open(input).with_context(|| format!("cannot open input `{input}`"))?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
}

/// Replays `input` into `alerts` (NDJSON, one alert a line).
///
/// Parsing is the expensive part, so it runs on worker threads over chunks
/// of lines while this thread runs the pipeline; chunks are put back in
/// input order before the pipeline sees them, so the output is the same as
/// a single-threaded run, byte for byte.
pub fn replay(
    input: Box<dyn BufRead + Send>,
    alerts: &mut dyn Write,
    settings: &Settings,
) -> anyhow::Result<ReplaySummary> {
    let mut pipeline = detectors::pipeline(&settings.pipeline, &settings.detectors)?;
    let mut summary = ReplaySummary::default();
    let mut out = Vec::new();
    let mut line_buf = Vec::with_capacity(512);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let lines = parsed_lines(scope, input, workers);
        for batch in lines {
            for line in batch? {
                summary.lines = line.number;
                match line.result {
                    Ok(event) => {
                        summary.accepted += 1;
                        pipeline.push(event, &mut out);
                    }
                    Err(rejection) => {
                        summary.rejected_total += 1;
                        if summary.rejected.len() < LISTED_REJECTIONS {
                            summary.rejected.push((line.number, rejection.reason));
                        }
                    }
                }
                if !out.is_empty() {
                    summary.alerts += write_alerts(&mut out, alerts, &mut line_buf)?;
                }
            }
        }
        Ok(())
    })?;
    pipeline.finish(&mut out);
    summary.alerts += write_alerts(&mut out, alerts, &mut line_buf)?;
    alerts.flush().context("cannot write alerts")?;
    summary.stats = pipeline.stats().clone();
    Ok(summary)
}

/// About this many bytes of lines go to a worker at a time.
const CHUNK_BYTES: usize = 256 * 1024;

struct Chunk {
    seq: u64,
    first_line: u64,
    bytes: Vec<u8>,
}

/// Reads `input` in chunks of whole lines, parses them on `workers`
/// threads, and yields the parsed lines in input order. Memory stays
/// bounded: a few chunks per worker are in flight at most.
fn parsed_lines<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    mut input: Box<dyn BufRead + Send>,
    workers: usize,
) -> impl Iterator<Item = anyhow::Result<Vec<Line>>> + 'scope {
    let (work_tx, work_rx) = mpsc::sync_channel::<Chunk>(workers * 2);
    let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
    let (done_tx, done_rx) = mpsc::sync_channel::<(u64, anyhow::Result<Vec<Line>>)>(workers * 4);
    let reader_done = done_tx.clone();
    scope.spawn(move || {
        let mut seq = 0;
        let mut line_no = 0u64;
        loop {
            let mut bytes = Vec::with_capacity(CHUNK_BYTES + 4096);
            let first_line = line_no + 1;
            while bytes.len() < CHUNK_BYTES {
                match input.read_until(b'\n', &mut bytes) {
                    Ok(0) => break,
                    Ok(_) => line_no += 1,
                    Err(e) => {
                        let _ = reader_done
                            .send((seq, Err(anyhow::Error::new(e).context("cannot read input"))));
                        return;
                    }
                }
            }
            if bytes.is_empty() {
                return;
            }
            if work_tx
                .send(Chunk {
                    seq,
                    first_line,
                    bytes,
                })
                .is_err()
            {
                return;
            }
            seq += 1;
        }
    });
    for _ in 0..workers {
        let work_rx = work_rx.clone();
        let done_tx = done_tx.clone();
        scope.spawn(move || {
            loop {
                let chunk = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok(chunk) = chunk else { return };
                if done_tx.send((chunk.seq, Ok(parse_chunk(&chunk)))).is_err() {
                    return;
                }
            }
        });
    }
    drop(done_tx);
    let mut pending: BTreeMap<u64, anyhow::Result<Vec<Line>>> = BTreeMap::new();
    let mut next = 0u64;
    std::iter::from_fn(move || {
        loop {
            if let Some(batch) = pending.remove(&next) {
                next += 1;
                return Some(batch);
            }
            match done_rx.recv() {
                Ok((seq, batch)) => {
                    pending.insert(seq, batch);
                }
                // Every sender is gone: anything left is out of sequence
                // only if a read failed, whose error is then yielded.
                Err(_) => return pending.pop_first().map(|(_, b)| b),
            }
        }
    })
}

fn parse_chunk(chunk: &Chunk) -> Vec<Line> {
    let mut lines = Vec::with_capacity(chunk.bytes.len() / 200);
    for (offset, raw) in chunk.bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let number = chunk.first_line + offset as u64;
        let bytes = raw.trim_ascii();
        if !bytes.is_empty() {
            lines.push(Line {
                number,
                result: parse_bytes(bytes, DEFAULT_MAX_LINE_BYTES, || number.to_string()),
            });
        }
    }
    lines
}

fn write_alerts(
    out: &mut Vec<Output>,
    sink: &mut dyn Write,
    buf: &mut Vec<u8>,
) -> anyhow::Result<u64> {
    let mut n = 0;
    for output in out.drain(..) {
        if let Output::Alert(alert) = output {
            buf.clear();
            serde_json::to_writer(&mut *buf, &alert).context("cannot encode alert")?;
            buf.push(b'\n');
            sink.write_all(buf).context("cannot write alerts")?;
            n += 1;
        }
    }
    Ok(n)
}

impl ReplaySummary {
    /// The human summary for standard error. Rejected lines are named by
    /// number, with their reason.
    pub fn render(&self, lateness_secs: f64) -> String {
        let mut s = String::new();
        let unknown: u64 = self.stats.unknown_types.values().sum();
        s.push_str(&format!(
            "custos replay: read {} lines: accepted {} events, rejected {}\n",
            self.lines, self.accepted, self.rejected_total
        ));
        if unknown > 0 {
            let kinds: Vec<String> = self
                .stats
                .unknown_types
                .iter()
                .map(|(t, n)| format!("`{t}` ×{n}"))
                .collect();
            s.push_str(&format!(
                "  unknown types (counted, not processed): {unknown} ({})\n",
                kinds.join(", ")
            ));
        }
        for (line, reason) in &self.rejected {
            s.push_str(&format!("  rejected line {line}: {reason}\n"));
        }
        if self.rejected_total > self.rejected.len() as u64 {
            s.push_str(&format!(
                "  ... and {} more rejected lines\n",
                self.rejected_total - self.rejected.len() as u64
            ));
        }
        s.push_str(&format!(
            "  late events (older than the {lateness_secs} s lateness, processed out of order): {}\n",
            self.stats.late
        ));
        if self.stats.alerts_by_detector.is_empty() {
            s.push_str(&format!("  alerts: {}\n", self.alerts));
        } else {
            let by: Vec<String> = self
                .stats
                .alerts_by_detector
                .iter()
                .map(|(d, n)| format!("{d} {n}"))
                .collect();
            s.push_str(&format!("  alerts: {} ({})\n", self.alerts, by.join(", ")));
        }
        s
    }
}

/// Where `--alerts` points, or standard output.
pub fn open_output(path: Option<&Path>) -> anyhow::Result<Box<dyn Write>> {
    match path {
        None => Ok(Box::new(BufWriter::with_capacity(
            1 << 16,
            std::io::stdout().lock(),
        ))),
        Some(p) => {
            let file = std::fs::File::create(p)
                .with_context(|| format!("cannot create `{}`", p.display()))?;
            Ok(Box::new(BufWriter::with_capacity(1 << 16, file)))
        }
    }
}
