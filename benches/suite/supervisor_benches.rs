//! Supervisor benchmark: supervisor_restart.

use std::time::Instant;

use rotp::gen_server::{
    gen_server, CallError, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, ServerRef,
    StartOptions,
};
use rotp::runtime::{ExitReason, Runtime};
use rotp::supervisor::{GenServerChildSpec, Strategy, Supervisor, SupervisorOptions};

use crate::{Bench, Line};

pub(crate) fn all() -> Vec<Bench> {
    vec![Bench {
        name: "supervisor_restart",
        default_n: 1_000,
        run: supervisor_restart,
    }]
}

/// A worker that crashes on demand.
struct Worker;

enum Request {
    Ping(ReplyTo<()>),
    Crash(ReplyTo<()>),
}

#[gen_server]
impl GenServer for Worker {
    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Worker)
    }

    fn handle_call(&mut self, req: Request, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match req {
            Request::Ping(r) => r.reply(()),
            Request::Crash(r) => r.stop(ExitReason::custom("crash"), ()),
        }
    }
}

/// A one_for_one supervisor's named worker crashes n times; each time the
/// clock runs until the restarted child answers by name.
fn supervisor_restart(rt: &Runtime, n: u64) -> Line {
    let spec = Worker::child_spec_opts((), StartOptions::new().name("bench_worker"));
    let sup = Supervisor::start_link(
        rt,
        vec![spec],
        SupervisorOptions::new()
            .strategy(Strategy::OneForOne)
            .max_restarts(n as u32 + 1)
            .max_seconds(3600),
    )
    .expect("supervisor");
    let worker = ServerRef::<Worker>::named(rt, "bench_worker");
    // Every crash would write two reports to stderr (the server's
    // termination, the supervisor's child_terminated), and formatting and
    // writing them would dominate the run: off, as the BEAM twin switches
    // its logger off.
    let route = rotp::runtime::report_route();
    rotp::runtime::set_report_route(rotp::runtime::ReportRoute::Off);
    let start = Instant::now();
    for _ in 0..n {
        let old = worker.pid();
        // Without a timeout, like the BEAM twin's calls (`infinity`).
        worker
            .call_timeout(Request::Crash, None)
            .expect("crash acknowledged");
        // Wait for the restarted incarnation to answer by name.
        loop {
            match worker.call_timeout(Request::Ping, None) {
                Ok(()) if worker.pid() != old => break,
                Ok(()) | Err(CallError::NoProc) | Err(CallError::Exited(_)) => {
                    std::thread::yield_now()
                }
                Err(e) => panic!("unexpected call error: {e}"),
            }
        }
    }
    let elapsed = start.elapsed();
    rotp::runtime::set_report_route(route);
    drop(sup);
    Line::new("supervisor_restart", n, elapsed)
}
