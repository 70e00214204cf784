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
    /// Borrow a connection for a query; the reply is the answer.
    Query(String),
    Stats,
}

enum Setup {
    Connect,
}

impl GenServer for Pool {
    type Args = usize;
    type Call = PoolCall;
    type Reply = Result<String, String>;
    type Cast = ();
    type Info = ();
    type Continue = Setup;

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
    ) -> CastResult<Self> {
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
        NoReply::noreply()
    }

    fn handle_call(
        &mut self,
        req: PoolCall,
        _caller: &mut Caller<Self::Reply>,
        _ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        match req {
            PoolCall::Query(sql) => {
                let Some(conn) = self
                    .connections
                    .get(self.checked_out % self.connections.len().max(1))
                else {
                    return Reply::reply(Err("no connections".to_owned()));
                };
                self.checked_out += 1;
                Reply::reply(Ok(format!("{conn}: {sql} -> 42")))
            }
            PoolCall::Stats => Reply::reply(Ok(format!(
                "{} connections, {} queries",
                self.connections.len(),
                self.checked_out
            ))),
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
        out.push(db.call(PoolCall::Query(sql.to_owned())).unwrap().unwrap());
    }
    out.push(db.call(PoolCall::Stats).unwrap().unwrap());
    assert_eq!(out[2], "4 connections, 2 queries");
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
