//! Reads a run directory (docs/results-schema.md) into what the report draws. Only
//! `summary.json` is required; every other file is optional, and one that cannot be read
//! becomes a line under "Problems reading the run" instead of failing the whole report.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::ReportError;
use super::events::{self, EventSummary};
use super::hlog_read::{self, HlogData};
use super::summary_model::{Phase, RunSummary};
use super::watch::{self, WatchLine};
use crate::report::hgrm_parse::{self, Hgrm};

/// The metrics with percentile plots, as named in file names and tags.
pub const DISPATCH_LAG: &str = "dispatch_lag";
pub const LATENCY: &str = "latency";

/// One phase's files.
#[derive(Debug, Default)]
pub struct PhaseFiles {
    /// `.hgrm` distributions by (series tag, metric).
    pub hgrm: BTreeMap<(String, String), Hgrm>,
    pub hlog: Option<HlogData>,
    /// Watch lines of this phase (lifecycle runs).
    pub watch: Vec<WatchLine>,
}

#[derive(Debug)]
pub struct RunData {
    pub dir: PathBuf,
    pub summary: RunSummary,
    pub metadata: Option<serde_json::Value>,
    /// Parallel to `summary.phases`.
    pub phases: Vec<PhaseFiles>,
    pub events: Option<EventSummary>,
    /// Files that were there but could not be read, in words.
    pub problems: Vec<String>,
}

impl RunData {
    pub fn multi_phase(&self) -> bool {
        self.summary.phases.len() > 1
    }

    pub fn phase_pairs(&self) -> impl Iterator<Item = (&Phase, &PhaseFiles)> {
        self.summary.phases.iter().zip(&self.phases)
    }

    pub fn has_watch(&self) -> bool {
        self.phases.iter().any(|p| !p.watch.is_empty())
    }
}

/// `None` when the file does not exist.
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, io::Error> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn load(dir: &Path) -> Result<RunData, ReportError> {
    let summary_path = dir.join("summary.json");
    if !summary_path.is_file() {
        return Err(ReportError::NotARunDir(dir.to_path_buf()));
    }
    let bytes = fs::read(&summary_path).map_err(|source| ReportError::Read { path: summary_path.clone(), source })?;
    let summary: RunSummary = serde_json::from_slice(&bytes)
        .map_err(|e| ReportError::Invalid { path: summary_path.clone(), message: e.to_string() })?;
    if !summary.schema.starts_with("probebench.summary/") {
        return Err(ReportError::Invalid {
            path: summary_path,
            message: format!("schema {:?} is not a probebench summary", summary.schema),
        });
    }
    let mut problems = Vec::new();
    let mut note = |file: &Path, what: String| problems.push(format!("{}: {what}", file.display()));

    let metadata_path = dir.join("metadata.json");
    let metadata = match read_optional(&metadata_path) {
        Ok(Some(b)) => match serde_json::from_slice(&b) {
            Ok(v) => Some(v),
            Err(e) => {
                note(&metadata_path, e.to_string());
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            note(&metadata_path, e.to_string());
            None
        }
    };

    let watch_path = dir.join("watch.jsonl");
    let watch_lines = match read_optional(&watch_path) {
        Ok(Some(b)) => {
            let (lines, bad) = watch::parse_jsonl(&String::from_utf8_lossy(&b));
            if bad > 0 {
                note(&watch_path, format!("{bad} lines are not watch lines and were left out"));
            }
            lines
        }
        Ok(None) => Vec::new(),
        Err(e) => {
            note(&watch_path, e.to_string());
            Vec::new()
        }
    };

    let multi = summary.phases.len() > 1;
    let mut phases = Vec::with_capacity(summary.phases.len());
    for phase in &summary.phases {
        let prefix = if multi { format!("{}.", phase.name) } else { String::new() };
        let mut files = PhaseFiles::default();
        for s in &phase.series {
            let tag = s.tag();
            for metric in [DISPATCH_LAG, LATENCY] {
                let path = dir.join(format!("{prefix}{tag}.{metric}.hgrm"));
                match read_optional(&path) {
                    Ok(Some(b)) => match hgrm_parse::parse(&String::from_utf8_lossy(&b)) {
                        Ok(h) => {
                            files.hgrm.insert((tag.clone(), metric.to_string()), h);
                        }
                        Err(e) => note(&path, e.to_string()),
                    },
                    Ok(None) => {}
                    Err(e) => note(&path, e.to_string()),
                }
            }
        }
        let hlog_path = dir.join(format!("{prefix}intervals.hlog"));
        match read_optional(&hlog_path) {
            Ok(Some(b)) => match hlog_read::read(&b) {
                Ok(h) => files.hlog = Some(h),
                Err(e) => note(&hlog_path, e.to_string()),
            },
            Ok(None) => {}
            Err(e) => note(&hlog_path, e.to_string()),
        }
        // A single-phase run's watch lines belong to it whatever their phase field says.
        files.watch =
            watch_lines.iter().filter(|w| !multi || w.phase == phase.name || w.phase.is_empty()).cloned().collect();
        phases.push(files);
    }

    let events_path = dir.join("events.jsonl");
    let events = match read_optional(&events_path) {
        Ok(Some(b)) => {
            let s = events::summarise(&String::from_utf8_lossy(&b));
            if s.unreadable_lines > 0 {
                note(&events_path, format!("{} lines are not JSON events and were left out", s.unreadable_lines));
            }
            Some(s)
        }
        Ok(None) => None,
        Err(e) => {
            note(&events_path, e.to_string());
            None
        }
    };

    Ok(RunData { dir: dir.to_path_buf(), summary, metadata, phases, events, problems })
}
