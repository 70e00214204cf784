//! `Builder::idle_wait`: how long a worker out of work stays awake looking
//! for more before it sleeps (`docs/scheduling.md`, "Idle workers").

mod common;

use std::time::Duration;

use common::*;
use rotp_runtime::testing::{wait_until, Probe};
use rotp_runtime::{Builder, Runtime, DEFAULT_IDLE_WAIT};

const AN_HOUR: Duration = Duration::from_secs(3600);

/// A runtime of `workers` whose idle workers stay awake for an hour.
fn awake_for_an_hour(workers: usize) -> Builder {
    Builder::new().workers(workers).idle_wait(AN_HOUR)
}

/// Handles one message on every worker count, so that the workers have
/// been busy and gone idle again.
fn round_trip(rt: &Runtime) {
    let probe = Probe::<u32>::spawn(rt);
    probe.addr().send(7);
    assert_eq!(probe.assert_message(TIMEOUT), 7);
}

/// Out of work, the workers sleep once the wait is over: with the default
/// wait and with none.
#[test]
fn idle_workers_go_to_sleep() {
    for wait in [DEFAULT_IDLE_WAIT, Duration::ZERO] {
        for workers in WORKER_COUNTS {
            with_runtime(Builder::new().workers(workers).idle_wait(wait), |rt| {
                assert_eq!(rt.idle_wait(), wait);
                round_trip(rt);
                assert!(
                    wait_until(TIMEOUT, || rt.stats().sleeping >= workers),
                    "{workers} worker(s) still awake with a wait of {wait:?}"
                );
            });
        }
    }
}

/// A worker staying awake still notices the runtime stopping at once: a
/// shutdown never waits for the idle wait to run out.
#[test]
fn a_long_idle_wait_never_holds_up_the_shutdown() {
    for workers in WORKER_COUNTS {
        let rt = awake_for_an_hour(workers)
            .build()
            .expect("the runtime starts");
        round_trip(&rt);
        assert_eq!(rt.stats().sleeping, 0, "a worker slept within the wait");
        rt.shutdown(TIMEOUT).expect("the shutdown completes");
    }
}

/// A virtual clock moves when every worker sleeps, so with one the workers
/// sleep after one look, whatever the idle wait: with auto-advance an
/// hour's timer fires at once.
#[test]
fn a_virtual_clock_ignores_the_idle_wait() {
    for workers in WORKER_COUNTS {
        let builder = awake_for_an_hour(workers)
            .virtual_clock()
            .auto_advance(true);
        with_runtime(builder, |rt| {
            let fired = self_timer(rt, AN_HOUR);
            assert_eq!(fired.recv_timeout(TIMEOUT), Ok("fired"));
            assert_eq!(rt.now(), AN_HOUR);
        });
    }
}
