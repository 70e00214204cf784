//! Counter: the "hello world" of GenServers.
//!
//! A server that owns a number. Increments are casts (fire-and-forget),
//! reading is a call (request/reply). The Elixir original:
//!
//! ```elixir
//! def handle_cast(:increment, count), do: {:noreply, count + 1}
//! def handle_call(:value, _from, count), do: {:reply, count, count}
//! ```
//!
//! Run with `cargo run --example counter`.

use std::time::Duration;

use rotp::gen_server::{
    start, CallResult, Caller, CastResult, Ctx, GenServer, Init, InitResult, NoReply, Reply,
    ServerRef, StartOptions,
};
use rotp::runtime::Runtime;

/// The server's state is the implementing type itself.
struct Counter {
    count: i64,
}

/// Requests that get an answer.
enum Call {
    Value,
    /// Add and return the new value in one step (no read-modify-write race
    /// between clients).
    IncrementAndGet,
}

/// Requests that do not.
enum Cast {
    Increment,
    Add(i64),
    Reset,
}

impl GenServer for Counter {
    type Args = i64;
    type Call = Call;
    type Reply = i64;
    type Cast = Cast;
    type Info = ();
    type Continue = ();

    fn init(start: i64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Counter { count: start })
    }

    fn handle_call(
        &mut self,
        request: Call,
        _caller: &mut Caller<i64>,
        _ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        match request {
            Call::Value => Reply::reply(self.count),
            Call::IncrementAndGet => {
                self.count += 1;
                Reply::reply(self.count)
            }
        }
    }

    fn handle_cast(&mut self, request: Cast, _ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
        match request {
            Cast::Increment => self.count += 1,
            Cast::Add(n) => self.count += n,
            Cast::Reset => self.count = 0,
        }
        NoReply::noreply()
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");

    // Start it under a name, so anyone can find it.
    let counter = start::<Counter>(&rt, 10, StartOptions::new().name("counter")).unwrap();
    counter.cast(Cast::Increment);
    counter.cast(Cast::Add(5));
    // Casts from one sender arrive in order, before this call.
    assert_eq!(counter.call(Call::Value).unwrap(), 16);
    println!("counter after increment and add 5: 16");

    // Many clients at once: the server handles one message at a time, so
    // no update is lost.
    counter.cast(Cast::Reset);
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let c = counter.clone();
            std::thread::spawn(move || {
                for _ in 0..250 {
                    c.cast(Cast::Increment);
                }
                c.call(Call::IncrementAndGet).unwrap()
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    // A handle by name resolves on every use.
    let by_name: ServerRef<Counter> = ServerRef::named(&rt, "counter");
    assert_eq!(by_name.call(Call::Value).unwrap(), 4 * 250 + 4);
    println!("4 clients x 250 increments (+4): {}", 4 * 250 + 4);

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("counter: ok");
}
