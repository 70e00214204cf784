//! `PartitionSupervisor`: N copies of one child, routed to by key; each
//! partition restarts on its own.

use std::time::Duration;

use rotp_gen_server::{Agent, StartError as ServerStartError, StartOptions};
use rotp_runtime::testing::wait_until;
use rotp_runtime::{ExitReason, Handle, Runtime};
use rotp_supervisor::{ChildSpec, ChildStatus, PartitionOptions, PartitionSupervisor};

const TIMEOUT: Duration = Duration::from_secs(5);

/// Partition `i` is an agent holding `i`.
fn agents(i: usize) -> ChildSpec {
    ChildSpec::worker("agent", move || {
        let a = Agent::start_link(&Handle::current(), move || i, StartOptions::new())
            .map_err(ExitReason::custom)?;
        Ok(a.pid())
    })
}

#[test]
fn starts_n_partitions_and_routes_each_key_to_one() {
    for workers in [1, 2, 8] {
        let rt = Runtime::builder().workers(workers).build().unwrap();
        let parts = PartitionSupervisor::start_link(
            &rt,
            agents,
            PartitionOptions::new().partitions(3).name("parts"),
        )
        .unwrap();
        assert_eq!(parts.partitions(), 3);
        let counts = parts.count_children().unwrap();
        assert_eq!((counts.specs, counts.active, counts.workers), (3, 3, 3));
        let mut ids: Vec<String> = parts
            .which_children()
            .unwrap()
            .into_iter()
            .map(|c| c.id.as_str().to_owned())
            .collect();
        ids.sort();
        assert_eq!(ids, ["0", "1", "2"]);
        for key in ["alice", "bob", "carol", "dave"] {
            let i = parts.partition_of(key);
            assert_eq!(parts.partition_of(key), i, "stable");
            let held = Agent::<usize>::named(&rt, parts.via(key))
                .get(|n| *n)
                .unwrap();
            assert_eq!(held, i);
        }
        assert_eq!(
            PartitionSupervisor::whereis(&rt, "parts").unwrap().pid(),
            parts.pid()
        );
        rt.shutdown(TIMEOUT).unwrap();
    }
}

#[test]
fn each_partition_restarts_on_its_own_and_its_name_follows() {
    let rt = Runtime::new().unwrap();
    let parts = PartitionSupervisor::start_link(&rt, agents, PartitionOptions::new().partitions(3))
        .unwrap();
    let before: Vec<_> = (0..3)
        .map(|i| Agent::<usize>::named(&rt, parts.via_partition(i)).pid())
        .collect();
    rt.kill(before[1].expect("partition 1 runs"));
    assert!(wait_until(TIMEOUT, || {
        Agent::<usize>::named(&rt, parts.via_partition(1))
            .get(|n| *n)
            .is_ok_and(|n| n == 1)
            && Agent::<usize>::named(&rt, parts.via_partition(1)).pid() != before[1]
    }));
    for i in [0, 2] {
        assert_eq!(
            Agent::<usize>::named(&rt, parts.via_partition(i)).pid(),
            before[i]
        );
    }
    assert!(parts
        .which_children()
        .unwrap()
        .iter()
        .all(|c| matches!(c.status, ChildStatus::Running(_))));
    // The routing name only routes: a start under it finds the partition
    // running (rule 48)...
    let r = Agent::start(
        &rt,
        || 0usize,
        StartOptions::new().name(parts.via_partition(0)),
    );
    assert!(matches!(r, Err(ServerStartError::AlreadyStarted(p)) if Some(p) == before[0]));
    parts.supervisor().terminate_child("0").unwrap();
    // ...and with nobody there, it is refused.
    let r = Agent::start(
        &rt,
        || 0usize,
        StartOptions::new().name(parts.via_partition(0)),
    );
    assert!(matches!(r, Err(ServerStartError::Init(_))), "{r:?}");
    parts.stop(ExitReason::Normal).unwrap();
    assert!(parts.whereis_key("x").is_none());
}
