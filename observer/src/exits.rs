//! Recent abnormal exits, gathered by a telemetry handler on
//! `rotp.process.exit` for the page's "recent exits" list.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rotp_runtime::telemetry::{self, event};
use rotp_runtime::Pid;

/// How many exits are kept.
const KEEP: usize = 50;

/// One abnormal exit.
#[derive(Debug, Clone)]
pub(crate) struct ExitRecord {
    /// Seconds since the observer started.
    pub(crate) at: f64,
    pub(crate) pid: Pid,
    pub(crate) name: Option<String>,
    pub(crate) type_name: String,
    pub(crate) reason: String,
}

pub(crate) type Exits = Arc<Mutex<VecDeque<ExitRecord>>>;

/// Attaches the handler under `id`; detach it with `telemetry::detach`.
pub(crate) fn attach(id: &str) -> Exits {
    let exits: Exits = Arc::default();
    let sink = exits.clone();
    let origin = Instant::now();
    let attached = telemetry::attach(id, event::PROCESS_EXIT, move |_, _, meta| {
        let Some(reason) = meta.get("reason").and_then(|r| r.as_reason()) else {
            return;
        };
        if reason.is_normal_class() {
            return;
        }
        let record = ExitRecord {
            at: origin.elapsed().as_secs_f64(),
            pid: meta.pid("pid").unwrap_or(Pid::ROOT),
            name: meta.str("name").map(str::to_owned),
            type_name: meta.str("type").unwrap_or_default().to_owned(),
            reason: reason.to_string(),
        };
        let mut exits = sink.lock().unwrap_or_else(|e| e.into_inner());
        if exits.len() == KEEP {
            exits.pop_front();
        }
        exits.push_back(record);
    });
    if let Err(e) = attached {
        log::warn!("observer: recent exits unavailable: {e}");
    }
    exits
}
