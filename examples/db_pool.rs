//! A supervised database-pool-style worker whose slow initialisation runs
//! in `handle_continue`, so the supervisor (and everyone starting after it)
//! is not held up: `start_link` returns at once, and the first request is
//! served only after the connections are "open".
//!
//! `cargo run --example db_pool`

use std::time::Duration;

use rotp::prelude::*;

/// A pool of fake connections.
struct Pool {
    size: usize,
    connections: Vec<String>,
    checked_out: usize,
}

enum PoolCall {
    /// Runs a query on the next connection; answers its result.
    Query(String, ReplyTo<Result<String, String>>),
    Stats(ReplyTo<String>),
}

enum Setup {
    Connect,
}

#[gen_server]
impl GenServer for Pool {
    fn init(size: usize, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        // Return at once; connect before the first message (rule 83).
        Init::ok(Pool {
            size,
            connections: Vec::new(),
            checked_out: 0,
        })
        .then_continue(Setup::Connect)
    }

    fn handle_continue(
        &mut self,
        Setup::Connect: Setup,
        _ctx: &mut Ctx<'_, Self>,
    ) -> Handled<Self> {
        // Slow set-up is blocking work: say so, and the worker's other
        // processes keep running meanwhile.
        self.connections = rotp::runtime::blocking(|| {
            (0..self.size)
                .map(|i| {
                    std::thread::sleep(Duration::from_millis(2));
                    format!("conn-{i}")
                })
                .collect()
        });
        noreply()
    }

    fn handle_call(&mut self, call: PoolCall, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            PoolCall::Query(sql, r) => {
                let next = self.checked_out % self.connections.len().max(1);
                let Some(conn) = self.connections.get(next) else {
                    return r.reply(Err("no connections".to_owned()));
                };
                self.checked_out += 1;
                r.reply(Ok(format!("{conn}: {sql} -> 42")))
            }
            PoolCall::Stats(r) => r.reply(format!(
                "{} connections, {} queries",
                self.connections.len(),
                self.checked_out
            )),
        }
    }
}

/// Starts the pool under a supervisor and runs a few queries.
pub(crate) fn run() -> Vec<String> {
    let rt = Runtime::new().expect("runtime");
    let _sup = Supervisor::start_link(
        &rt,
        vec![Pool::child_spec_opts(4, StartOptions::new().name("db"))],
        SupervisorOptions::new().strategy(Strategy::OneForOne),
    )
    .expect("supervisor");
    let db = ServerRef::<Pool>::named(&rt, "db");
    let mut out = Vec::new();
    for sql in ["SELECT 1", "SELECT 2"] {
        let answer = db.call(|r| PoolCall::Query(sql.to_owned(), r)).unwrap();
        out.push(answer.expect("connected before the first query"));
    }
    out.push(db.call(PoolCall::Stats).unwrap());
    assert_eq!(out[2], "4 connections, 2 queries");
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
