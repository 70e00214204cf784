//! Session store with periodic cleanup and an inactivity stop.
//!
//! - Sessions expire `TTL` after their last use. Rather than a timer per
//!   session, the server sweeps every `SWEEP_EVERY` with an interval timer
//!   (`ctx.send_interval`, Elixir's `:timer.send_interval`).
//! - When no request has come for `IDLE_STOP`, the store stops itself: each
//!   reply re-arms the inactivity timeout (`.timeout(IDLE_STOP)`, the
//!   `timeout` of `{:reply, r, state, timeout}`), and `handle_info` gets
//!   `Info::Timeout` when it expires. Any message cancels that timeout, the
//!   sweeps too, so a sweep re-arms it with what is left of the idle time.
//!
//! The runtime's virtual clock makes hours pass in milliseconds, so this
//! example (and its test) runs quickly and the same way every time.
//!
//! Run with `cargo run --example session_store`.

use std::collections::HashMap;
use std::time::Duration;

use rotp::prelude::*;
use rotp::runtime::testing::assert_eventually;

const TTL: Duration = Duration::from_secs(30 * 60);
const SWEEP_EVERY: Duration = Duration::from_secs(5 * 60);
const IDLE_STOP: Duration = Duration::from_secs(60 * 60);

/// The interval timer's message.
#[derive(Clone)]
struct Sweep;

struct SessionStore {
    /// Token -> (user, last used), times on the runtime clock.
    sessions: HashMap<u64, (String, Duration)>,
    /// The last token handed out.
    token: u64,
    last_request: Duration,
}

enum Call {
    /// Opens a session; answers its token.
    Create(String, ReplyTo<u64>),
    /// The user of a live session; using a session extends its life.
    Lookup(u64, ReplyTo<Option<String>>),
    Count(ReplyTo<usize>),
}

#[gen_server]
impl GenServer for SessionStore {
    fn init((): (), ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        ctx.send_interval(SWEEP_EVERY, Sweep);
        let store = SessionStore {
            sessions: HashMap::new(),
            token: 0,
            last_request: ctx.handle().now(),
        };
        Init::ok(store).timeout(IDLE_STOP)
    }

    fn handle_call(&mut self, call: Call, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.last_request = ctx.handle().now();
        let handled = match call {
            Call::Create(user, r) => {
                self.token += 1;
                self.sessions.insert(self.token, (user, self.last_request));
                r.reply(self.token)
            }
            Call::Lookup(token, r) => {
                if let Some((_, last_used)) = self.sessions.get_mut(&token) {
                    *last_used = self.last_request;
                }
                r.reply(self.sessions.get(&token).map(|(user, _)| user.clone()))
            }
            Call::Count(r) => r.reply(self.sessions.len()),
        };
        handled.timeout(IDLE_STOP)
    }

    fn handle_info(&mut self, info: Info<Sweep>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        let now = ctx.handle().now();
        match info {
            Info::Timeout => return stop(ExitReason::Normal),
            // The sweep (sweeping at any other message does no harm).
            _ => self.sessions.retain(|_, (_, used)| now - *used < TTL),
        }
        // A sweep is not a request: wait only what is left of the idle time.
        noreply().timeout(IDLE_STOP.saturating_sub(now - self.last_request))
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder()
        .workers(2)
        .virtual_clock()
        .build()
        .expect("runtime");
    let minutes = |n: u64| Duration::from_secs(60 * n);
    let store =
        gen_server::start::<SessionStore>(&rt, (), StartOptions::new()).expect("the store starts");

    let alice = store.call(|r| Call::Create("alice".into(), r)).unwrap();
    let bob = store.call(|r| Call::Create("bob".into(), r)).unwrap();

    // 20 minutes (four sweeps) later both are fresh. Alice is active.
    rt.advance(minutes(20));
    assert_eq!(store.call(Call::Count), Ok(2));
    let user = store.call(|r| Call::Lookup(alice, r));
    assert_eq!(user.unwrap().as_deref(), Some("alice"));
    // 15 more: Bob's session, 35 minutes old, was swept; Alice's is 15.
    rt.advance(minutes(15));
    assert_eq!(store.call(|r| Call::Lookup(bob, r)), Ok(None));
    assert_eq!(store.call(Call::Count), Ok(1));
    println!("after 35 minutes: bob's session expired, alice's (active) kept");

    // No more requests. The sweeps go on (reading the state through `sys`,
    // as here, is not a request), and an hour after the last request the
    // store stops itself.
    rt.advance(minutes(59));
    assert_eq!(store.get_state(|s| s.sessions.len()), Ok(0));
    assert!(store.is_alive());
    rt.advance(minutes(1));
    assert_eventually(Duration::from_secs(5), "the idle store stops", || {
        store.exit_reason() == Some(ExitReason::Normal)
    });
    println!(
        "idle for an hour: all sessions swept, the store stopped (virtual time {:?})",
        rt.now()
    );

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("session_store: ok");
}
