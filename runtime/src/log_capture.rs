//! A `log` logger that keeps every record, for tests that check what the
//! runtime reported (a crash report, a warning, a record's key-values).
//!
//! `log` has one logger per program, so the capture is one static, installed
//! by the first test that asks for it and shared by all the tests of the
//! binary: a test looks for the records it caused (by pid or by text), never
//! for "the only record". A test that needs the program's stderr or its
//! logger to itself runs in a child process ([`run_child_test`]).
//!
//! [`run_child_test`]: crate::testing::run_child_test

use std::sync::Mutex;

/// One captured `log` record.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The record's level.
    pub level: log::Level,
    /// The record's target (by default the module that logged it).
    pub target: String,
    /// The formatted message.
    pub line: String,
    /// The record's key-values, formatted.
    pub kvs: Vec<(String, String)>,
}

impl Captured {
    /// The value of key-value `key`.
    pub fn kv(&self, key: &str) -> Option<&str> {
        self.kvs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Collects a record's key-values as text.
struct KeyValues<'a>(&'a mut Vec<(String, String)>);

impl<'kvs> log::kv::VisitSource<'kvs> for KeyValues<'_> {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        self.0.push((key.to_string(), value.to_string()));
        Ok(())
    }
}

/// The capturing logger (see the module docs).
///
/// ```
/// use rotp_runtime::testing::LogCapture;
///
/// let logs = LogCapture::install(log::LevelFilter::Warn);
/// log::warn!(answer = 42; "something to look at");
/// assert!(logs.any(|line| line == "WARN something to look at"));
/// let found = logs.records(|r| r.line == "something to look at");
/// assert_eq!(found[0].kv("answer"), Some("42"));
/// ```
pub struct LogCapture {
    records: Mutex<Vec<Captured>>,
}

impl std::fmt::Debug for LogCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogCapture({} records)", self.lock().len())
    }
}

static CAPTURE: LogCapture = LogCapture {
    records: Mutex::new(Vec::new()),
};

impl log::Log for LogCapture {
    fn enabled(&self, _metadata: &log::Metadata<'_>) -> bool {
        // `log::max_level` filters before this is asked.
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let mut kvs = Vec::new();
        let _ = record.key_values().visit(&mut KeyValues(&mut kvs));
        let captured = Captured {
            level: record.level(),
            target: record.target().to_owned(),
            line: record.args().to_string(),
            kvs,
        };
        self.lock().push(captured);
    }

    fn flush(&self) {}
}

impl LogCapture {
    /// Installs the capture as the program's logger, keeping records up to
    /// `level`, and returns it. Later calls return the same capture, and
    /// raise the level if they ask for more; if another logger was
    /// installed first, nothing is captured (the level is still set).
    pub fn install(level: log::LevelFilter) -> &'static LogCapture {
        let _ = log::set_logger(&CAPTURE);
        if level > log::max_level() {
            log::set_max_level(level);
        }
        &CAPTURE
    }

    /// The captured records, a test that panicked while holding them
    /// notwithstanding.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Captured>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The captured lines, as `LEVEL message`, that satisfy `pred`.
    pub fn lines(&self, pred: impl Fn(&str) -> bool) -> Vec<String> {
        self.lock()
            .iter()
            .map(|r| format!("{} {}", r.level, r.line))
            .filter(|l| pred(l))
            .collect()
    }

    /// Whether some captured line (`LEVEL message`) satisfies `pred`.
    pub fn any(&self, pred: impl Fn(&str) -> bool) -> bool {
        self.lock()
            .iter()
            .any(|r| pred(&format!("{} {}", r.level, r.line)))
    }

    /// The captured records that satisfy `pred`.
    pub fn records(&self, pred: impl Fn(&Captured) -> bool) -> Vec<Captured> {
        self.lock().iter().filter(|r| pred(r)).cloned().collect()
    }
}
