//! A configurable cache: entries expire after a TTL, and when the cache is
//! full the least recently used entry is evicted.
//!
//! Expiry is lazy — checked when a key is read — so no timer is needed per
//! entry; capacity is enforced on insert. The clock is the runtime's, so the
//! example drives TTLs with the virtual clock instead of sleeping.
//!
//! Run with `cargo run --example cache_ttl`.

use std::collections::HashMap;
use std::time::Duration;

use rotp::prelude::*;

/// What the cache is configured with.
#[derive(Clone, Copy)]
struct CacheConfig {
    ttl: Duration,
    capacity: usize,
}

struct Entry {
    value: String,
    inserted_at: Duration,
    /// A logical clock of accesses: the smallest is the least recently used.
    last_access: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Stats {
    hits: u64,
    misses: u64,
    expired: u64,
    evicted: u64,
    len: usize,
}

struct Cache {
    config: CacheConfig,
    entries: HashMap<String, Entry>,
    tick: u64,
    stats: Stats,
}

enum Call {
    Put(String, String, ReplyTo<()>),
    Get(String, ReplyTo<Option<String>>),
    Stats(ReplyTo<Stats>),
}

impl Cache {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn get(&mut self, key: &str, now: Duration) -> Option<String> {
        let ttl = self.config.ttl;
        let tick = self.next_tick();
        match self.entries.get_mut(key) {
            Some(e) if now.saturating_sub(e.inserted_at) < ttl => {
                e.last_access = tick;
                self.stats.hits += 1;
                Some(e.value.clone())
            }
            Some(_) => {
                // Lazy expiry: found stale on read.
                self.entries.remove(key);
                self.stats.expired += 1;
                self.stats.misses += 1;
                None
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    fn put(&mut self, key: String, value: String, now: Duration) {
        if !self.entries.contains_key(&key) && self.entries.len() >= self.config.capacity {
            let lru = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_access)
                .map(|(k, _)| k.clone());
            if let Some(lru) = lru {
                self.entries.remove(&lru);
                self.stats.evicted += 1;
            }
        }
        let last_access = self.next_tick();
        self.entries.insert(
            key,
            Entry {
                value,
                inserted_at: now,
                last_access,
            },
        );
    }
}

#[gen_server]
impl GenServer for Cache {
    fn init(config: CacheConfig, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        if config.capacity == 0 {
            // `{:error, reason}` from `init`: the start returns the error.
            return Init::error("a cache holds at least one entry");
        }
        Init::ok(Cache {
            config,
            entries: HashMap::new(),
            tick: 0,
            stats: Stats::default(),
        })
    }

    fn handle_call(&mut self, call: Call, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        let now = ctx.handle().now();
        match call {
            Call::Put(k, v, r) => {
                self.put(k, v, now);
                r.reply(())
            }
            Call::Get(k, r) => r.reply(self.get(&k, now)),
            Call::Stats(r) => r.reply(Stats {
                len: self.entries.len(),
                ..self.stats
            }),
        }
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder()
        .workers(2)
        .virtual_clock()
        .build()
        .expect("runtime");
    let config = CacheConfig {
        ttl: Duration::from_secs(60),
        capacity: 2,
    };
    let cache =
        gen_server::start::<Cache>(&rt, config, StartOptions::new()).expect("the cache starts");
    // A cache without room does not start; the error says why.
    let empty = CacheConfig {
        capacity: 0,
        ..config
    };
    let refused = gen_server::start::<Cache>(&rt, empty, StartOptions::new()).unwrap_err();
    println!("capacity 0: {refused}");
    assert!(matches!(refused, StartError::Init(_)));

    let put = |k: &str, v: &str| cache.call(|r| Call::Put(k.into(), v.into(), r)).unwrap();
    let get = |k: &str| cache.call(|r| Call::Get(k.into(), r)).unwrap();

    put("a", "alpha");
    put("b", "beta");
    assert_eq!(get("a").as_deref(), Some("alpha")); // a is now more recent than b
    put("c", "gamma"); // full: evicts b, the least recently used
    assert_eq!(get("b"), None);
    assert_eq!(get("c").as_deref(), Some("gamma"));
    println!("capacity 2: inserting c evicted b (least recently used)");

    // 59 s later everything is still fresh; at 60 s `a` has expired.
    rt.advance(Duration::from_secs(59));
    assert_eq!(get("a").as_deref(), Some("alpha"));
    put("c", "gamma-2"); // re-inserting refreshes c's TTL
    rt.advance(Duration::from_secs(1));
    assert_eq!(get("a"), None);
    assert_eq!(get("c").as_deref(), Some("gamma-2"));
    println!("after 60 s: a expired, c (re-put at 59 s) still fresh");

    let stats = cache.call(Call::Stats).unwrap();
    assert_eq!(
        stats,
        Stats {
            hits: 4,
            misses: 2,
            expired: 1,
            evicted: 1,
            len: 1
        }
    );
    println!("{stats:?}");

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("cache_ttl: ok");
}
