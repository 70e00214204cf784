//! Counter: the "hello world" of GenServers.
//!
//! A server that owns a number: increments are casts (fire-and-forget),
//! reads are calls (request and reply). Each call carries the port for its
//! own reply, so `counter.call(Call::Value)` is an `i64`, checked by the
//! compiler, and the request enums are the whole client API. The Elixir
//! version is in `docs/guide.md`.
//!
//! Run with `cargo run --example counter`.

use std::time::Duration;

use rotp::prelude::*;

struct Counter(i64);

enum Call {
    Value(ReplyTo<i64>),
    /// Add one and answer the new value, in one step: no read-modify-write
    /// race between clients.
    IncrementAndGet(ReplyTo<i64>),
}

enum Cast {
    Increment,
    Add(i64),
}

#[gen_server]
impl GenServer for Counter {
    fn init(start: i64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Counter(start))
    }

    fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Value(r) => r.reply(self.0),
            Call::IncrementAndGet(r) => {
                self.0 += 1;
                r.reply(self.0)
            }
        }
    }

    fn handle_cast(&mut self, cast: Cast, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match cast {
            Cast::Increment => self.0 += 1,
            Cast::Add(n) => self.0 += n,
        }
        noreply()
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");

    // Start it under a name, so anyone can find it.
    let counter = gen_server::start::<Counter>(&rt, 10, StartOptions::new().name("counter"))
        .expect("the counter starts");
    counter.cast(Cast::Increment);
    counter.cast(Cast::Add(5));
    // Casts from one sender arrive in order, before this call.
    assert_eq!(counter.call(Call::Value), Ok(16));
    println!("counter after increment and add 5: 16");

    // Many clients at once: the server handles one message at a time, so
    // no update is lost.
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let counter = counter.clone();
            std::thread::spawn(move || {
                for _ in 0..250 {
                    counter.cast(Cast::Increment);
                }
                counter.call(Call::IncrementAndGet).unwrap()
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    // A handle by name looks the name up on every use.
    let by_name = ServerRef::<Counter>::named(&rt, "counter");
    assert_eq!(by_name.call(Call::Value), Ok(16 + 4 * 250 + 4));
    println!("4 clients x (250 increments + 1 increment_and_get): 16 -> 1020");

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("counter: ok");
}
