//! Group commit: one thread owns every event write to the store.
//!
//! Request handlers hand their batch to the [`Ingestor`] and wait; the
//! thread takes everything queued, appends it in one durable transaction and
//! answers each request with its own sequence range. One fsync then covers
//! many requests, which is what makes durable ingest fast, and the store
//! (whose PostgreSQL client must not run inside the async runtime) is only
//! ever called from a plain thread.

use crate::metrics::Metrics;
use custos_store::{AppendReceipt, NewEvent, Store, StoreError};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// The most events one group commit writes; a larger backlog is committed
/// in several transactions so none grows without bound.
pub const MAX_GROUP_EVENTS: usize = 50_000;

/// How many batches may wait for the ingest thread before senders wait too.
const QUEUE_DEPTH: usize = 256;

/// Why a batch was not stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The ingest thread is gone (the process is shutting down, or it died).
    #[error("the ingest thread has stopped")]
    Stopped,
}

impl IngestError {
    /// Worth retrying later: the database is down or custos is stopping.
    pub fn is_unavailable(&self) -> bool {
        match self {
            IngestError::Store(error) => error.is_unavailable(),
            IngestError::Stopped => true,
        }
    }
}

struct Job {
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<AppendReceipt, StoreError>>,
}

/// The handle request handlers append through. Cheap to clone; the thread
/// stops once every clone is dropped and the queue is drained.
#[derive(Clone)]
pub struct Ingestor {
    queue: mpsc::Sender<Job>,
}

impl Ingestor {
    /// Starts the ingest thread.
    pub fn start(store: Arc<dyn Store>, metrics: Arc<Metrics>) -> std::io::Result<Ingestor> {
        let (queue, receiver) = mpsc::channel(QUEUE_DEPTH);
        std::thread::Builder::new()
            .name("custos-ingest".to_owned())
            .spawn(move || run(store.as_ref(), &metrics, receiver))?;
        Ok(Ingestor { queue })
    }

    /// Appends `events` durably; returns after the commit with the sequence
    /// numbers they got (consecutive, in the order given).
    pub async fn append(&self, events: Vec<NewEvent>) -> Result<AppendReceipt, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { events, reply })
            .await
            .map_err(|_| IngestError::Stopped)?;
        answer
            .await
            .map_err(|_| IngestError::Stopped)?
            .map_err(IngestError::Store)
    }

    /// False once the ingest thread has stopped.
    pub fn is_running(&self) -> bool {
        !self.queue.is_closed()
    }
}

fn run(store: &dyn Store, metrics: &Metrics, mut receiver: mpsc::Receiver<Job>) {
    let mut held_back: Option<Job> = None;
    loop {
        let first = match held_back.take() {
            Some(job) => job,
            None => match receiver.blocking_recv() {
                Some(job) => job,
                None => break,
            },
        };
        let mut total = first.events.len();
        let mut group = vec![first];
        while total < MAX_GROUP_EVENTS {
            let Ok(job) = receiver.try_recv() else { break };
            if total + job.events.len() > MAX_GROUP_EVENTS {
                held_back = Some(job);
                break;
            }
            total += job.events.len();
            group.push(job);
        }
        commit_group(store, metrics, group);
    }
    tracing::debug!("ingest thread stopped");
}

/// Commits a group in one transaction. If that fails for a reason other
/// than the database being down, the batches are retried one by one, so a
/// batch the store refuses fails alone and its neighbours still land.
fn commit_group(store: &dyn Store, metrics: &Metrics, mut group: Vec<Job>) {
    if group.len() == 1 {
        let job = group.remove(0);
        let result = append(store, metrics, &job.events);
        let _ = job.reply.send(result);
        return;
    }
    let lengths: Vec<usize> = group.iter().map(|job| job.events.len()).collect();
    let total = lengths.iter().sum();
    let mut combined = Vec::with_capacity(total);
    for job in &mut group {
        combined.append(&mut job.events);
    }
    match append(store, metrics, &combined) {
        Ok(receipt) => {
            let mut first_seq = receipt.first_seq;
            for (job, len) in group.into_iter().zip(lengths) {
                let len = len as u64;
                let own = AppendReceipt {
                    first_seq,
                    last_seq: first_seq + len - 1,
                };
                first_seq += len;
                // A client that hung up still had its events stored.
                let _ = job.reply.send(Ok(own));
            }
        }
        Err(error) if error.is_unavailable() => {
            for job in group {
                let _ = job.reply.send(Err(error.clone()));
            }
        }
        Err(error) => {
            tracing::warn!(%error, batches = group.len(), "group commit failed, retrying batch by batch");
            // Give every job its events back, last first.
            for (job, len) in group.iter_mut().zip(&lengths).rev() {
                job.events = combined.split_off(combined.len() - len);
            }
            for job in group {
                let result = append(store, metrics, &job.events);
                let _ = job.reply.send(result);
            }
        }
    }
}

/// One store append, timed, with a panicking store turned into an error so
/// the thread (and with it all ingest) survives.
fn append(
    store: &dyn Store,
    metrics: &Metrics,
    events: &[NewEvent],
) -> Result<AppendReceipt, StoreError> {
    let started = Instant::now();
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| store.append_events(events)))
        .unwrap_or_else(|_| Err(StoreError::Internal("the store panicked".to_owned())));
    if result.is_ok() {
        metrics.observe_commit(events.len(), started.elapsed());
    }
    result
}
