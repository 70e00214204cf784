//! Shared helpers of the store's integration tests.
//!
//! - [`each_runtime`] runs a test body against runtimes of 1, 2 and 8
//!   workers, then checks that each shuts down with nothing left over.
//! - A [`Puppet`] is a process that runs whatever closure it is sent, so a
//!   test can act *as* a process (own a table, register a key) with
//!   [`as_process`].

#![allow(dead_code)]

use std::sync::mpsc;
use std::time::Duration;

use rotp_runtime::{Addr, Context, Handle, Process, Runtime};

pub(crate) const WORKER_COUNTS: [usize; 3] = [1, 2, 8];
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) fn each_runtime(test: impl Fn(&Runtime)) {
    for workers in WORKER_COUNTS {
        let rt = Runtime::builder().workers(workers).build().unwrap();
        eprintln!("--- runtime with {workers} worker(s)");
        test(&rt);
        for pid in rt.processes() {
            rt.kill(pid);
        }
        assert!(rotp_runtime::testing::wait_until(TIMEOUT, || rt
            .process_count()
            == 0));
        rt.shutdown(TIMEOUT).unwrap();
    }
}

type Job = Box<dyn FnOnce(&mut Context<'_, Puppet>) + Send>;

/// A process that runs the closures it is sent.
pub(crate) struct Puppet(Job);

struct PuppetProcess;

impl Process for PuppetProcess {
    type Message = Puppet;
    fn handle(&mut self, job: Puppet, ctx: &mut Context<'_, Puppet>) {
        (job.0)(ctx)
    }
}

pub(crate) fn puppet(h: &Handle) -> Addr<Puppet> {
    h.spawn(PuppetProcess)
}

/// Runs `f` inside puppet `p` and returns its result.
pub(crate) fn as_process<R: Send + 'static>(
    p: &Addr<Puppet>,
    f: impl FnOnce(&mut Context<'_, Puppet>) -> R + Send + 'static,
) -> R {
    let (tx, rx) = mpsc::channel();
    p.send(Puppet(Box::new(move |ctx| {
        let _ = tx.send(f(ctx));
    })));
    rx.recv_timeout(TIMEOUT).expect("the puppet answers")
}

/// Sends `f` to run inside `p` without waiting.
pub(crate) fn in_process(
    p: &Addr<Puppet>,
    f: impl FnOnce(&mut Context<'_, Puppet>) + Send + 'static,
) {
    p.send(Puppet(Box::new(f)));
}
