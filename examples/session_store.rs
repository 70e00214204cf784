//! Session store with periodic cleanup: `send_after` to itself.
//!
//! Sessions expire `ttl` after their last use. Rather than a timer per
//! session, the server sweeps every `sweep_every` — the Elixir idiom
//!
//! ```elixir
//! def init(_), do: (schedule_cleanup(); {:ok, %{}})
//! def handle_info(:cleanup, state), do: (schedule_cleanup(); {:noreply, drop_expired(state)})
//! defp schedule_cleanup, do: Process.send_after(self(), :cleanup, @interval)
//! ```
//!
//! The runtime's virtual clock makes an hour pass in microseconds, so this
//! example (and its test) runs instantly and deterministically.
//!
//! Run with `cargo run --example session_store`.

use std::collections::HashMap;
use std::time::Duration;

use rotp::gen_server::{
    start, CallResult, Caller, CastResult, Ctx, GenServer, Info, Init, InitResult, NoReply, Reply,
    ServerRef, StartOptions,
};
use rotp::runtime::Runtime;

struct Config {
    ttl: Duration,
    sweep_every: Duration,
}

struct Session {
    user: String,
    last_used: Duration,
}

struct Sessions {
    config: Config,
    sessions: HashMap<u64, Session>,
    next_token: u64,
    swept: u64,
}

enum Call {
    Create(String),
    /// The user of a live session; using it extends its life.
    Lookup(u64),
    Count,
    Swept,
}

#[derive(Debug, PartialEq)]
enum Answer {
    Token(u64),
    User(Option<String>),
    Count(usize),
}

/// The timer message.
struct Sweep;

impl GenServer for Sessions {
    type Args = Config;
    type Call = Call;
    type Reply = Answer;
    type Cast = ();
    type Info = Sweep;
    type Continue = ();

    fn init(config: Config, ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        ctx.send_after(config.sweep_every, Sweep);
        Init::ok(Sessions {
            config,
            sessions: HashMap::new(),
            next_token: 1,
            swept: 0,
        })
    }

    fn handle_call(
        &mut self,
        request: Call,
        _caller: &mut Caller<Answer>,
        ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        // Time comes from the runtime clock (virtual in tests).
        let now = ctx.handle().now();
        Reply::reply(match request {
            Call::Create(user) => {
                let token = self.next_token;
                self.next_token += 1;
                self.sessions.insert(
                    token,
                    Session {
                        user,
                        last_used: now,
                    },
                );
                Answer::Token(token)
            }
            Call::Lookup(token) => Answer::User(self.sessions.get_mut(&token).map(|s| {
                s.last_used = now;
                s.user.clone()
            })),
            Call::Count => Answer::Count(self.sessions.len()),
            Call::Swept => Answer::Count(self.swept as usize),
        })
    }

    fn handle_info(&mut self, info: Info<Sweep>, ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
        if let Info::Msg(Sweep) = info {
            let now = ctx.handle().now();
            let ttl = self.config.ttl;
            let before = self.sessions.len();
            self.sessions
                .retain(|_, s| now.saturating_sub(s.last_used) < ttl);
            self.swept += (before - self.sessions.len()) as u64;
            // Re-arm: the next sweep is one period from now.
            ctx.send_after(self.config.sweep_every, Sweep);
        }
        NoReply::noreply()
    }
}

/// Lets `time` pass on the virtual clock, one sweep period at a time. The
/// call after each step returns once the server has handled that step's
/// sweep — and armed the next one — so every sweep runs at its exact time.
fn pass(rt: &Runtime, store: &ServerRef<Sessions>, time: Duration, period: Duration) {
    for _ in 0..time.as_secs() / period.as_secs() {
        rt.advance(period);
        store.call(Call::Count).unwrap();
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder()
        .workers(2)
        .virtual_clock()
        .build()
        .expect("runtime");
    let minute = Duration::from_secs(60);
    let period = 5 * minute;
    let config = Config {
        ttl: 30 * minute,
        sweep_every: period,
    };
    let store = start::<Sessions>(&rt, config, StartOptions::new()).unwrap();

    let Answer::Token(alice) = store.call(Call::Create("alice".into())).unwrap() else {
        unreachable!()
    };
    let Answer::Token(bob) = store.call(Call::Create("bob".into())).unwrap() else {
        unreachable!()
    };

    // 20 minutes pass (four sweeps): both are fresh. Alice is active.
    pass(&rt, &store, 20 * minute, period);
    assert_eq!(store.call(Call::Count).unwrap(), Answer::Count(2));
    assert_eq!(
        store.call(Call::Lookup(alice)).unwrap(),
        Answer::User(Some("alice".into()))
    );
    // 15 more: Bob's session is 35 minutes old, Alice's only 15.
    pass(&rt, &store, 15 * minute, period);
    assert_eq!(store.call(Call::Count).unwrap(), Answer::Count(1));
    assert_eq!(store.call(Call::Lookup(bob)).unwrap(), Answer::User(None));
    assert_eq!(
        store.call(Call::Lookup(alice)).unwrap(),
        Answer::User(Some("alice".into()))
    );
    println!("after 35 minutes: bob expired, alice (active) kept");

    // An idle hour later, the sweeper has removed everything.
    pass(&rt, &store, 60 * minute, period);
    assert_eq!(store.call(Call::Count).unwrap(), Answer::Count(0));
    assert_eq!(store.call(Call::Swept).unwrap(), Answer::Count(2));
    println!(
        "an idle hour later: 0 sessions, 2 swept (virtual time: {:?})",
        rt.now()
    );

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("session_store: ok");
}
