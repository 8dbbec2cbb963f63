//! Property test: random batches of directory records with random (often
//! equal, often out-of-order) times, checked after every batch against a
//! plain in-memory model of what the store must answer.

use std::collections::BTreeMap;

use custos_store::{DirectoryKind, DirectoryRecord, DirectoryUpdate, NewEvent, StoredEvent};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use crate::support::Backend;

const IDS: [&str; 3] = ["x", "y", "z"];

/// One event: `Some((kind, id))` for a directory record, and its time.
pub type Step = (Option<(usize, usize)>, i64);

/// Batches, each optionally preceded by closing and reopening the store.
pub type Script = Vec<(bool, Vec<Step>)>;

pub fn script() -> impl Strategy<Value = Script> {
    let step = (
        proptest::option::weighted(0.85, (0..DirectoryKind::ALL.len(), 0..IDS.len())),
        -3_i64..4,
    );
    proptest::collection::vec(
        (
            proptest::bool::weighted(0.15),
            proptest::collection::vec(step, 0..7),
        ),
        1..8,
    )
}

#[derive(Default)]
struct Model {
    events: Vec<StoredEvent>,
    history: BTreeMap<(DirectoryKind, &'static str), Vec<DirectoryRecord>>,
}

impl Model {
    fn current(&self, key: &(DirectoryKind, &'static str)) -> Option<DirectoryRecord> {
        self.history
            .get(key)?
            .iter()
            .max_by_key(|r| (r.ts_micros, r.seq))
            .cloned()
    }

    fn history(&self, key: &(DirectoryKind, &'static str)) -> Vec<DirectoryRecord> {
        let mut records = self.history.get(key).cloned().unwrap_or_default();
        records.sort_by_key(|r| (r.ts_micros, r.seq));
        records
    }
}

pub fn check_against_model(backend: &dyn Backend, script: &Script) -> Result<(), TestCaseError> {
    let mut model = Model::default();
    let mut store = backend.open();
    for (reopen, steps) in script {
        if *reopen {
            drop(store);
            store = backend.open();
        }
        let batch: Vec<NewEvent> = steps
            .iter()
            .enumerate()
            .map(|(index, (directory, ts_micros))| {
                let n = model.events.len() + index + 1;
                NewEvent {
                    event_id: format!("e{n}"),
                    event_type: "t".to_owned(),
                    ts_micros: *ts_micros,
                    raw: format!(r#"{{"n":{n},"ts":{ts_micros}}}"#),
                    directory: directory.map(|(kind, id)| DirectoryUpdate {
                        kind: DirectoryKind::ALL[kind],
                        id: IDS[id].to_owned(),
                    }),
                }
            })
            .collect();
        let receipt = store
            .append_events(&batch)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let first_seq = model.events.len() as u64 + 1;
        prop_assert_eq!(receipt.first_seq, first_seq);
        prop_assert_eq!(receipt.len(), batch.len() as u64);
        for (event, seq) in batch.iter().zip(first_seq..) {
            model.events.push(StoredEvent {
                seq,
                event_id: event.event_id.clone(),
                event_type: event.event_type.clone(),
                ts_micros: event.ts_micros,
                raw: event.raw.clone(),
            });
            if let Some(update) = &event.directory {
                let id = IDS
                    .iter()
                    .copied()
                    .find(|id| *id == update.id)
                    .unwrap_or("?");
                model
                    .history
                    .entry((update.kind, id))
                    .or_default()
                    .push(DirectoryRecord {
                        kind: update.kind,
                        id: update.id.clone(),
                        ts_micros: event.ts_micros,
                        seq,
                        raw: event.raw.clone(),
                    });
            }
        }

        let fail = |e: custos_store::StoreError| TestCaseError::fail(e.to_string());
        for kind in DirectoryKind::ALL {
            for id in IDS {
                let key = (kind, id);
                prop_assert_eq!(
                    store.directory_current(kind, id).map_err(fail)?,
                    model.current(&key)
                );
                prop_assert_eq!(
                    store.directory_history(kind, id).map_err(fail)?,
                    model.history(&key)
                );
            }
        }
        prop_assert_eq!(
            &store.read_events(0, usize::MAX).map_err(fail)?,
            &model.events
        );
        prop_assert_eq!(store.last_seq().map_err(fail)?, model.events.len() as u64);
    }
    Ok(())
}
