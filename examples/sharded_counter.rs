//! A sharded counter under a supervisor: N counter servers, each
//! registered as `shard-i`, share the increments of many clients so that
//! no single server is a bottleneck; a crashed shard is restarted by the
//! supervisor (one_for_one) and reached again by its name.
//!
//! `cargo run --example sharded_counter`

use rotp::prelude::*;

const SHARDS: usize = 4;

struct Shard(u64);

enum ShardCall {
    Get,
    Crash,
}

impl GenServer for Shard {
    type Args = ();
    type Call = ShardCall;
    type Reply = u64;
    type Cast = u64;
    type Info = ();
    type Continue = ();

    fn init(_: (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Shard(0))
    }

    fn handle_call(
        &mut self,
        req: ShardCall,
        _caller: &mut Caller<u64>,
        _ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        match req {
            ShardCall::Get => Reply::reply(self.0),
            ShardCall::Crash => panic!("shard crashed"),
        }
    }

    fn handle_cast(&mut self, n: u64, _ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
        self.0 += n;
        NoReply::noreply()
    }
}

fn shard(rt: &Runtime, key: u64) -> ServerRef<Shard> {
    ServerRef::named(rt, format!("shard-{}", key as usize % SHARDS))
}

fn total(rt: &Runtime) -> u64 {
    (0..SHARDS as u64)
        .map(|i| shard(rt, i).call(ShardCall::Get).unwrap())
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
        shard(&rt, key).cast(1);
    }
    let before = total(&rt);
    assert_eq!(before, 1_000);

    // Shard 0 crashes: it loses its count (250), the others keep theirs.
    let old = shard(&rt, 0).pid();
    assert!(shard(&rt, 0).call(ShardCall::Crash).is_err());
    rotp::runtime::testing::assert_eventually(
        std::time::Duration::from_secs(5),
        "shard 0 restarted",
        || {
            let s = shard(&rt, 0);
            s.is_alive() && s.pid() != old
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
