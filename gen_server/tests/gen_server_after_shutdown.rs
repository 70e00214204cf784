//! Starting a server on a runtime that has shut down fails at once with a
//! typed error; it never waits for an `init` that no worker would run.

mod common;

use std::time::Duration;

use common::*;
use rotp_gen_server::{start, StartError, StartOptions};
use rotp_runtime::testing::Probe;
use rotp_runtime::{ExitReason, Runtime};

#[test]
fn start_after_shutdown_fails_at_once_with_runtime_stopped() {
    for workers in WORKER_COUNTS {
        let rt = Runtime::builder().workers(workers).build().unwrap();
        let probe: Probe<Ev> = Probe::spawn(&rt);
        let script = script(&probe);
        rt.shutdown(TIMEOUT).expect("clean shutdown");
        let h = rt.handle().clone();
        let started = bounded(move || {
            start::<Puppet>(
                &h,
                script,
                StartOptions::new().timeout(Duration::from_secs(1)),
            )
            .map(|s| s.pid())
        });
        assert_eq!(
            started,
            Err(StartError::Init(ExitReason::runtime_stopped())),
            "{workers} worker(s)"
        );
    }
}
