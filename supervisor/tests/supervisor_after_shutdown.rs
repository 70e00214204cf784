//! `Supervisor::start_link` on a runtime that has shut down fails at once
//! with a typed error; it never waits for a supervisor no worker would run.

use std::sync::mpsc;
use std::time::Duration;

use rotp_runtime::{ExitReason, Runtime};
use rotp_supervisor::{Supervisor, SupervisorOptions, SupervisorStartError};

const TIMEOUT: Duration = Duration::from_secs(5);

#[test]
fn start_link_after_shutdown_fails_at_once_with_runtime_stopped() {
    for workers in [1, 2, 8] {
        let rt = Runtime::builder().workers(workers).build().unwrap();
        rt.shutdown(TIMEOUT).expect("clean shutdown");
        let h = rt.handle().clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let started = Supervisor::start_link(&h, [], SupervisorOptions::new());
            let _ = tx.send(started.map(|s| s.pid()));
        });
        let started = rx
            .recv_timeout(TIMEOUT)
            .expect("start_link returns at once");
        assert_eq!(
            started,
            Err(SupervisorStartError::Exited(ExitReason::runtime_stopped())),
            "{workers} worker(s)"
        );
    }
}
