//! A sharded counter under a supervisor: N counter servers, each
//! registered as `shard-i`, share the increments of many clients so that
//! no single server is a bottleneck; a crashed shard is restarted by the
//! supervisor (one_for_one) and reached again by its name.
//!
//! `cargo run --example sharded_counter`

use rotp::prelude::*;

const SHARDS: usize = 4;

struct Shard(u64);

/// The shard's count.
struct Get(ReplyTo<u64>);

enum ShardCast {
    Add(u64),
    Crash,
}

#[gen_server]
impl GenServer for Shard {
    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Shard(0))
    }

    fn handle_call(&mut self, Get(r): Get, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        r.reply(self.0)
    }

    fn handle_cast(&mut self, cast: ShardCast, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match cast {
            ShardCast::Add(n) => self.0 += n,
            // Elixir's `exit(:boom)`: the shard exits with that reason, from
            // anywhere in its code.
            ShardCast::Crash => rotp::exit("boom"),
        }
        noreply()
    }
}

fn shard(rt: &Runtime, key: u64) -> ServerRef<Shard> {
    ServerRef::named(rt, format!("shard-{}", key as usize % SHARDS))
}

fn total(rt: &Runtime) -> u64 {
    (0..SHARDS as u64)
        .map(|i| shard(rt, i).call(Get).unwrap())
        .sum()
}

/// Counts 1,000 increments over the shards, crashes one, counts again.
pub(crate) fn run() -> (u64, u64) {
    let rt = Runtime::new().expect("runtime");
    let children = (0..SHARDS).map(|i| {
        Shard::child_spec_opts((), StartOptions::new().name(format!("shard-{i}")))
            .id(format!("shard-{i}"))
    });
    let sup = Supervisor::start_link(
        &rt,
        children,
        SupervisorOptions::new().strategy(Strategy::OneForOne),
    )
    .unwrap();
    for key in 0..1_000u64 {
        shard(&rt, key).cast(ShardCast::Add(1));
    }
    let before = total(&rt);
    assert_eq!(before, 1_000);

    // Shard 0 crashes: it loses its count (250), the others keep theirs.
    let old = shard(&rt, 0).pid();
    shard(&rt, 0).cast(ShardCast::Crash);
    rotp::runtime::testing::assert_eventually(
        std::time::Duration::from_secs(5),
        "shard 0 restarted",
        || {
            let s = shard(&rt, 0);
            s.is_alive() && s.pid().is_some_and(|pid| Some(pid) != old)
        },
    );
    let after = total(&rt);
    assert_eq!(after, 750);
    assert_eq!(sup.count_children().unwrap().active, SHARDS);
    (before, after)
}

#[allow(dead_code)]
fn main() {
    let (before, after) = run();
    println!("{before} increments counted; after shard 0 crashed and restarted: {after}");
}
