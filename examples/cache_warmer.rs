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

use rotp::prelude::*;

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

/// The rate of a currency, if known.
struct Rate(&'static str, ReplyTo<Option<u64>>);

#[gen_server]
impl GenServer for Warmer {
    fn init((source, idle): (Source, Duration), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Warmer {
            source,
            idle,
            cache: HashMap::new(),
        })
        .then_continue(Warm)
    }

    fn handle_continue(&mut self, Warm: Warm, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.cache = self.source.load_all();
        noreply().timeout(self.idle)
    }

    fn handle_call(&mut self, Rate(currency, r): Rate, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        // Re-arm the inactivity timeout with every reply.
        r.reply(self.cache.get(currency).copied())
            .timeout(self.idle)
    }

    fn handle_info(&mut self, info: Info<()>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match info {
            // Idle for `idle`: refresh while nobody is waiting.
            Info::Timeout => noreply().then_continue(Warm),
            _ => noreply().timeout(self.idle),
        }
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder()
        .workers(2)
        .virtual_clock()
        .build()
        .expect("runtime");
    let source = Source::default();
    let idle = Duration::from_secs(30);
    let warmer = gen_server::start::<Warmer>(&rt, (source.clone(), idle), StartOptions::new())
        .expect("the warmer starts");
    let rate = |currency| warmer.call(|r| Rate(currency, r)).unwrap();

    // The first request is served from the warm cache.
    assert_eq!(rate("eur"), Some(100));
    assert_eq!(source.loads.load(SeqCst), 1);

    // Requests every 20 s keep the server busy: no refresh. (`advance`
    // first lets the server finish what it was sent, so each timeout is
    // armed by the last reply before time moves.)
    for _ in 0..5 {
        rt.advance(Duration::from_secs(20));
        assert_eq!(rate("usd"), Some(110));
    }
    assert_eq!(source.loads.load(SeqCst), 1);
    println!("busy for 100 s: no refresh");

    // 30 quiet seconds: the timeout fires and the cache is re-warmed.
    rt.advance(idle);
    assert_eq!(rate("eur"), Some(200));
    assert_eq!(source.loads.load(SeqCst), 2);
    println!("after {idle:?} idle: refreshed (eur is now 200)");

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("cache_warmer: ok");
}
