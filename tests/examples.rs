//! Runs every example's scenario, so `cargo test` checks the GenServer
//! patterns the examples teach. Each example keeps its logic in `run()`,
//! which asserts its own results; its `main` only calls it. Every wait in
//! a scenario is bounded (calls have their 5 s default timeout, stops and
//! waits a timeout of their own), so a bug fails a test instead of hanging
//! it.

#[path = "../examples/tour.rs"]
mod tour;

/// The tour, with its sizes scaled down under `cfg(test)`.
#[test]
fn tour() {
    tour::run();
}

#[path = "../examples/counter.rs"]
mod counter;

#[test]
fn counter() {
    counter::run();
}

#[path = "../examples/stack.rs"]
mod stack;

#[test]
fn stack() {
    stack::run();
}

#[path = "../examples/kv_store.rs"]
mod kv_store;

#[test]
fn kv_store() {
    kv_store::run();
}

#[path = "../examples/session_store.rs"]
mod session_store;

#[test]
fn session_store() {
    session_store::run();
}

#[path = "../examples/cache_ttl.rs"]
mod cache_ttl;

#[test]
fn cache_ttl() {
    cache_ttl::run();
}

#[path = "../examples/order_state_machine.rs"]
mod order_state_machine;

#[test]
fn order_state_machine() {
    order_state_machine::run();
}

#[path = "../examples/notification_queue.rs"]
mod notification_queue;

#[test]
fn notification_queue() {
    notification_queue::run();
}

#[path = "../examples/call_with_cast_semantics.rs"]
mod call_with_cast_semantics;

#[test]
fn call_with_cast_semantics() {
    call_with_cast_semantics::run();
}

#[path = "../examples/deferred_reply.rs"]
mod deferred_reply;

#[test]
fn deferred_reply() {
    deferred_reply::run();
}

#[path = "../examples/cache_warmer.rs"]
mod cache_warmer;

#[test]
fn cache_warmer() {
    cache_warmer::run();
}

#[path = "../examples/periodic_metrics.rs"]
mod periodic_metrics;

#[test]
fn periodic_metrics() {
    periodic_metrics::run();
}

#[path = "../examples/agent.rs"]
mod agent;

#[test]
fn agent() {
    agent::run();
}

#[path = "../examples/task.rs"]
mod task;

#[test]
fn task() {
    task::run();
}

#[path = "../examples/db_pool.rs"]
mod db_pool;

#[test]
fn db_pool() {
    db_pool::run();
}

#[path = "../examples/sharded_counter.rs"]
mod sharded_counter;

#[test]
fn sharded_counter() {
    sharded_counter::run();
}

#[path = "../examples/task_supervisor.rs"]
mod task_supervisor;

#[test]
fn task_supervisor() {
    task_supervisor::run();
}

#[path = "../examples/telemetry.rs"]
mod telemetry_example;

#[test]
fn telemetry() {
    telemetry_example::run();
}

#[path = "../examples/registry_workers.rs"]
mod registry_workers;

#[test]
fn registry_workers() {
    registry_workers::run();
}

#[path = "../examples/pubsub.rs"]
mod pubsub;

#[test]
fn pubsub() {
    pubsub::run();
}

#[path = "../examples/read_through_cache.rs"]
mod read_through_cache;

#[test]
fn read_through_cache() {
    read_through_cache::run();
}

#[path = "../examples/partitioned_counter.rs"]
mod partitioned_counter;

#[test]
fn partitioned_counter() {
    partitioned_counter::run();
}

// Needs Erlang/OTP (`escript`): run with `--features dist`.
#[cfg(feature = "dist")]
#[path = "../examples/cluster.rs"]
mod cluster;

#[cfg(feature = "dist")]
#[test]
fn cluster() {
    cluster::run();
}
