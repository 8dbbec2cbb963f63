//! `custos train`: the classifier from labelled corpus files.

use crate::corpus::{CorpusError, Example, read_corpus};
use crate::guard::{Guard, GuardError};
use crate::model::{Model, TrainOptions, train_model};
use std::path::{Path, PathBuf};

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("corpus `{path}`: {source}")]
    Corpus { path: PathBuf, source: CorpusError },
    #[error("opening `{path}`: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing the model to `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no training examples (held-out lines are never trained on)")]
    Empty,
    #[error(transparent)]
    Guard(#[from] GuardError),
}

/// What training did.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainReport {
    pub examples: usize,
    pub scam: usize,
    pub benign: usize,
    pub held_out_skipped: usize,
    pub model_bytes: usize,
}

/// Trains on the examples not held out (`split != "test"`).
pub fn train(
    examples: &[Example],
    options: &TrainOptions,
) -> Result<(Model, TrainReport), TrainError> {
    let guard =
        Guard::new().or_else(|_| Guard::with_model(Model::from_weights(8, 0.0, &[0.0; 256])))?;
    let training: Vec<&Example> = examples.iter().filter(|e| !e.is_held_out()).collect();
    if training.is_empty() {
        return Err(TrainError::Empty);
    }
    let data: Vec<_> = training
        .iter()
        .map(|e| {
            (
                guard.features(&e.text, e.speaker(), options.bits),
                e.is_scam(),
            )
        })
        .collect();
    let model = train_model(&data, options);
    let scam = training.iter().filter(|e| e.is_scam()).count();
    let report = TrainReport {
        examples: training.len(),
        scam,
        benign: training.len() - scam,
        held_out_skipped: examples.len() - training.len(),
        model_bytes: model.to_bytes().len(),
    };
    Ok((model, report))
}

/// `custos train --input FILE... --output MODEL --seed N`: reads JSON-lines
/// corpora, trains, writes the model file.
pub fn train_files(
    inputs: &[PathBuf],
    output: &Path,
    seed: u64,
) -> Result<TrainReport, TrainError> {
    let mut examples = Vec::new();
    for path in inputs {
        let file = std::fs::File::open(path).map_err(|source| TrainError::Open {
            path: path.clone(),
            source,
        })?;
        let mut read =
            read_corpus(std::io::BufReader::new(file)).map_err(|source| TrainError::Corpus {
                path: path.clone(),
                source,
            })?;
        examples.append(&mut read);
    }
    let options = TrainOptions {
        seed,
        ..TrainOptions::default()
    };
    let (model, report) = train(&examples, &options)?;
    std::fs::write(output, model.to_bytes()).map_err(|source| TrainError::Write {
        path: output.to_path_buf(),
        source,
    })?;
    Ok(report)
}
