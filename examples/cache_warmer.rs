//! Cache warmer: load the cache right after start, without holding up the
//! caller of `start`, and refresh it whenever the server has been idle for
//! a while — the inactivity timeout.
//!
//! - `init` returns `then_continue(Warm)`: `start` returns at once and the
//!   load runs in `handle_continue`, before any request (rule 83).
//! - Every reply carries `.timeout(idle)`: if no message arrives within
//!   `idle`, `handle_info(Info::Timeout)` runs (rule 78) — a quiet moment
//!   to re-warm. Any message cancels the pending timeout.
//!
//! Run with `cargo run --example cache_warmer`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use rotp::gen_server::{
    start, CallResult, Caller, CastResult, Ctx, GenServer, Info, Init, InitResult, NoReply, Reply,
    ServerRef, StartOptions,
};
use rotp::runtime::Runtime;

/// The slow source of truth; counts how often it was read.
#[derive(Clone, Default)]
struct Source {
    loads: Arc<AtomicU64>,
}

impl Source {
    fn load_all(&self) -> HashMap<&'static str, u64> {
        let generation = self.loads.fetch_add(1, SeqCst) + 1;
        HashMap::from([("eur", 100 * generation), ("usd", 110 * generation)])
    }
}

struct Warmer {
    source: Source,
    idle: Duration,
    cache: HashMap<&'static str, u64>,
}

struct Warm;

enum Call {
    Rate(&'static str),
}

impl GenServer for Warmer {
    type Args = (Source, Duration);
    type Call = Call;
    type Reply = Option<u64>;
    type Cast = ();
    type Info = ();
    type Continue = Warm;

    fn init((source, idle): Self::Args, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Warmer {
            source,
            idle,
            cache: HashMap::new(),
        })
        .then_continue(Warm)
    }

    fn handle_continue(&mut self, Warm: Warm, _ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
        self.cache = self.source.load_all();
        NoReply::noreply().timeout(self.idle)
    }

    fn handle_call(
        &mut self,
        Call::Rate(currency): Call,
        _caller: &mut Caller<Option<u64>>,
        _ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        // Re-arm the inactivity timeout with every reply.
        Reply::reply(self.cache.get(currency).copied()).timeout(self.idle)
    }

    fn handle_info(&mut self, info: Info<()>, _ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
        match info {
            // Idle for `idle`: refresh while nobody is waiting.
            Info::Timeout => NoReply::noreply().then_continue(Warm),
            _ => NoReply::noreply().timeout(self.idle),
        }
    }
}

/// Lets `time` pass on the virtual clock once the server has armed its
/// inactivity timeout. A reply goes out before the timeout is armed, so
/// first make sure the server is done with the last request: a `sys`
/// request (`get_state`) queues behind it and, unlike a call, does not
/// count as activity (rule 80).
fn idle_for(rt: &Runtime, warmer: &ServerRef<Warmer>, time: Duration) {
    warmer.get_state(|_| ()).unwrap();
    rt.advance(time);
}

pub(crate) fn run() {
    let rt = Runtime::builder()
        .workers(2)
        .virtual_clock()
        .build()
        .expect("runtime");
    let source = Source::default();
    let idle = Duration::from_secs(30);
    let warmer = start::<Warmer>(&rt, (source.clone(), idle), StartOptions::new()).unwrap();

    // The first request is served from the warm cache.
    assert_eq!(warmer.call(Call::Rate("eur")).unwrap(), Some(100));
    assert_eq!(source.loads.load(SeqCst), 1);

    // Requests every 20 s keep the server busy: no refresh.
    for _ in 0..5 {
        idle_for(&rt, &warmer, Duration::from_secs(20));
        assert_eq!(warmer.call(Call::Rate("usd")).unwrap(), Some(110));
    }
    assert_eq!(source.loads.load(SeqCst), 1);
    println!("busy for 100 s: no refresh");

    // 30 quiet seconds: the timeout fires and the cache is re-warmed.
    idle_for(&rt, &warmer, idle);
    assert_eq!(warmer.call(Call::Rate("eur")).unwrap(), Some(200));
    assert_eq!(source.loads.load(SeqCst), 2);
    println!("after {idle:?} idle: refreshed (eur is now 200)");

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("cache_warmer: ok");
}
