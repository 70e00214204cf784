//! Runs every example's scenario, so `cargo test` checks the GenServer
//! patterns the examples teach. Each example keeps its logic in `run()`,
//! which asserts its own results; its `main` only calls it.
//!
//! Each scenario runs on a thread of its own under a deadline
//! ([`scenario`]): a bug that leaves a scenario waiting — on a virtual
//! clock nobody advances, a call's timeout never comes — fails its test
//! after [`DEADLINE`] instead of hanging the whole run.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How long one example's scenario may take; they take well under a second.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs `run`, the scenario of example `name`, on a thread of its own and
/// fails if it panics or has not finished within [`DEADLINE`]; returns
/// what it returns. A scenario past its deadline is left running; the
/// test binary ends it when it exits.
fn scenario<R: Send + 'static>(name: &str, run: fn() -> R) -> R {
    let (done, finished) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(format!("example-{name}"))
        .spawn(move || {
            let result = run();
            let _ = done.send(());
            result
        })
        .expect("a thread for the scenario");
    match finished.recv_timeout(DEADLINE) {
        Ok(()) => thread.join().expect("the scenario finished"),
        // It panicked: fail with its panic.
        Err(RecvTimeoutError::Disconnected) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(_) => unreachable!("the scenario ends by sending or by panicking"),
        },
        Err(RecvTimeoutError::Timeout) => panic!(
            "example {name}: the scenario did not finish within {DEADLINE:?}; \
             something waits without a time limit"
        ),
    }
}

#[path = "../examples/tour.rs"]
mod tour;

/// The tour, with its sizes scaled down under `cfg(test)`.
#[test]
fn tour() {
    scenario("tour", tour::run);
}

#[path = "../examples/counter.rs"]
mod counter;

#[test]
fn counter() {
    scenario("counter", counter::run);
}

#[path = "../examples/stack.rs"]
mod stack;

#[test]
fn stack() {
    scenario("stack", stack::run);
}

#[path = "../examples/kv_store.rs"]
mod kv_store;

#[test]
fn kv_store() {
    scenario("kv_store", kv_store::run);
}

#[path = "../examples/session_store.rs"]
mod session_store;

#[test]
fn session_store() {
    scenario("session_store", session_store::run);
}

#[path = "../examples/cache_ttl.rs"]
mod cache_ttl;

#[test]
fn cache_ttl() {
    scenario("cache_ttl", cache_ttl::run);
}

#[path = "../examples/order_state_machine.rs"]
mod order_state_machine;

#[test]
fn order_state_machine() {
    scenario("order_state_machine", order_state_machine::run);
}

#[path = "../examples/notification_queue.rs"]
mod notification_queue;

#[test]
fn notification_queue() {
    scenario("notification_queue", notification_queue::run);
}

#[path = "../examples/call_with_cast_semantics.rs"]
mod call_with_cast_semantics;

#[test]
fn call_with_cast_semantics() {
    scenario("call_with_cast_semantics", call_with_cast_semantics::run);
}

#[path = "../examples/deferred_reply.rs"]
mod deferred_reply;

#[test]
fn deferred_reply() {
    scenario("deferred_reply", deferred_reply::run);
}

#[path = "../examples/cache_warmer.rs"]
mod cache_warmer;

#[test]
fn cache_warmer() {
    scenario("cache_warmer", cache_warmer::run);
}

#[path = "../examples/periodic_metrics.rs"]
mod periodic_metrics;

#[test]
fn periodic_metrics() {
    scenario("periodic_metrics", periodic_metrics::run);
}

#[path = "../examples/agent.rs"]
mod agent;

#[test]
fn agent() {
    scenario("agent", agent::run);
}

#[path = "../examples/task.rs"]
mod task;

#[test]
fn task() {
    scenario("task", task::run);
}

#[path = "../examples/db_pool.rs"]
mod db_pool;

#[test]
fn db_pool() {
    scenario("db_pool", db_pool::run);
}

#[path = "../examples/sharded_counter.rs"]
mod sharded_counter;

#[test]
fn sharded_counter() {
    scenario("sharded_counter", sharded_counter::run);
}

#[path = "../examples/task_supervisor.rs"]
mod task_supervisor;

#[test]
fn task_supervisor() {
    scenario("task_supervisor", task_supervisor::run);
}

#[path = "../examples/telemetry.rs"]
mod telemetry_example;

#[test]
fn telemetry() {
    scenario("telemetry", telemetry_example::run);
}

#[path = "../examples/registry_workers.rs"]
mod registry_workers;

#[test]
fn registry_workers() {
    scenario("registry_workers", registry_workers::run);
}

#[path = "../examples/pubsub.rs"]
mod pubsub;

#[test]
fn pubsub() {
    scenario("pubsub", pubsub::run);
}

#[path = "../examples/read_through_cache.rs"]
mod read_through_cache;

#[test]
fn read_through_cache() {
    scenario("read_through_cache", read_through_cache::run);
}

#[path = "../examples/partitioned_counter.rs"]
mod partitioned_counter;

#[test]
fn partitioned_counter() {
    scenario("partitioned_counter", partitioned_counter::run);
}

// Needs Erlang/OTP (`escript`): run with `--features dist`.
#[cfg(feature = "dist")]
#[path = "../examples/cluster.rs"]
mod cluster;

#[cfg(feature = "dist")]
#[test]
fn cluster() {
    scenario("cluster", cluster::run);
}
