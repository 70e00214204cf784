//! One result line in the suite's format.

use std::time::Duration;

/// One result line: `bench=… impl=… n=… secs=… rate=… extra=…`.
#[derive(Debug)]
pub struct Line {
    name: &'static str,
    n: u64,
    secs: f64,
    extra: Vec<(&'static str, String)>,
}

impl Line {
    /// A line for `n` operations that took `elapsed`.
    pub fn new(name: &'static str, n: u64, elapsed: Duration) -> Self {
        Line {
            name,
            n,
            secs: elapsed.as_secs_f64(),
            extra: Vec::new(),
        }
    }

    /// Adds `key:value` to the line's extra field.
    pub fn extra(mut self, key: &'static str, value: impl ToString) -> Self {
        self.extra.push((key, value.to_string()));
        self
    }

    /// Adds `key:<nanoseconds per operation>`.
    pub fn ns_per(self, key: &'static str, elapsed: Duration, ops: u64) -> Self {
        let ns = elapsed.as_nanos() as f64 / ops.max(1) as f64;
        self.extra(key, format!("{ns:.1}"))
    }

    pub(crate) fn print(&self, implementation: &str) {
        let extra = if self.extra.is_empty() {
            "-".to_owned()
        } else {
            self.extra
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        println!(
            "bench={} impl={} n={} secs={:.6} rate={:.1} extra={}",
            self.name,
            implementation,
            self.n,
            self.secs,
            self.n as f64 / self.secs,
            extra
        );
    }
}
