//! The sharded counter on a PartitionSupervisor: N counter servers started
//! from one child spec, each increment routed by key to its partition
//! (`{:via, PartitionSupervisor, {Counters, key}}`), each partition
//! restarted on its own.
//!
//! `cargo run --example partitioned_counter`

use std::time::Duration;

use rotp::prelude::*;

struct Counter(u64);

/// The one call: the partition's count.
struct Count(ReplyTo<u64>);

#[gen_server]
impl GenServer for Counter {
    fn init((): (), _: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Counter(0))
    }

    fn handle_call(&mut self, Count(r): Count, _: &mut Ctx<'_, Self>) -> Handled<Self> {
        r.reply(self.0)
    }

    fn handle_cast(&mut self, n: u64, _: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.0 += n;
        noreply()
    }
}

pub(crate) fn run() {
    let rt = Runtime::new().unwrap();
    // The sharded server, in one line.
    let counters = PartitionSupervisor::start_link(
        &rt,
        |_partition| Counter::child_spec(()),
        PartitionOptions::new().partitions(4).name("counters"),
    )
    .unwrap();

    for page in 0..1000u64 {
        ServerRef::<Counter>::named(&rt, counters.via(&page)).cast(1);
    }
    let total = |counters: &PartitionSupervisor| -> u64 {
        (0..counters.partitions())
            .map(|i| {
                ServerRef::<Counter>::named(&rt, counters.via_partition(i))
                    .call(Count)
                    .unwrap()
            })
            .sum()
    };
    assert_eq!(total(&counters), 1000);

    // One partition crashes; only it restarts (and starts from zero).
    let victim = counters.whereis_key(&7u64).unwrap();
    rt.kill(victim);
    let back = rotp::runtime::testing::wait_until(Duration::from_secs(5), || {
        counters.whereis_key(&7u64).is_some_and(|p| p != victim)
    });
    assert!(back);
    assert!(total(&counters) < 1000);
    assert_eq!(counters.count_children().unwrap().active, 4);
    println!("partitioned counter: {} partitions", counters.partitions());
}

#[allow(dead_code)]
fn main() {
    run();
}
