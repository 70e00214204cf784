//! "Call with cast semantics": an `enqueue` that is a call, but returns at
//! once — the server replies first and does the work afterwards, in
//! `handle_continue`.
//!
//! Why not a plain cast? A call tells the client that the server exists and
//! accepted the job (and gives it an id), and it paces producers: each
//! enqueue waits for the previous ones to be accepted, so a fast producer
//! cannot bury the server under an unbounded mailbox. Elixir:
//!
//! ```elixir
//! def handle_call({:enqueue, job}, _from, state),
//!   do: {:reply, {:ok, id}, add(state, job), {:continue, :work}}
//! ```
//!
//! Run with `cargo run --example call_with_cast_semantics`.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::time::Duration;

use rotp::prelude::*;

/// A job: some work to run on the server.
type Job = Box<dyn FnOnce() -> String + Send>;

struct Worker {
    queue: VecDeque<(u64, Job)>,
    next_id: u64,
    done: mpsc::Sender<(u64, String)>,
}

/// Queues a job; answers its id.
struct Enqueue(Job, ReplyTo<u64>);

/// What `handle_continue` is asked to do.
struct Work;

#[gen_server]
impl GenServer for Worker {
    fn init(done: mpsc::Sender<(u64, String)>, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Worker {
            queue: VecDeque::new(),
            next_id: 1,
            done,
        })
    }

    fn handle_call(&mut self, Enqueue(job, r): Enqueue, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        let id = self.next_id;
        self.next_id += 1;
        self.queue.push_back((id, job));
        // The reply goes out now; `handle_continue` runs right after, before
        // any other message (rule 83).
        r.reply(id).then_continue(Work)
    }

    fn handle_continue(&mut self, Work: Work, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        if let Some((id, job)) = self.queue.pop_front() {
            // Jobs may block: say so, so the worker thread's other
            // processes keep running meanwhile.
            let output = blocking(job);
            let _ = self.done.send((id, output));
        }
        noreply()
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");
    let (done, finished) = mpsc::channel();
    let worker =
        gen_server::start::<Worker>(&rt, done, StartOptions::new()).expect("the worker starts");
    let enqueue = |job: Job| worker.call(|r| Enqueue(job, r));
    let wait = Duration::from_secs(5);

    // The job waits for a signal that is only sent once `enqueue` returned:
    // if the server did the work before replying, this would never finish.
    let (go, signal) = mpsc::channel::<()>();
    let id = enqueue(Box::new(move || {
        signal
            .recv_timeout(Duration::from_secs(5))
            .expect("released");
        "report ready".to_owned()
    }))
    .unwrap();
    println!("enqueue returned job id {id} before the job ran");
    assert!(finished.try_recv().is_err(), "the job has not run yet");
    go.send(()).unwrap();
    assert_eq!(
        finished.recv_timeout(wait).unwrap(),
        (1, "report ready".to_owned())
    );

    // Each enqueue is acknowledged in order.
    let ids: Vec<u64> = (0..3)
        .map(|i| enqueue(Box::new(move || format!("job {i}"))).unwrap())
        .collect();
    assert_eq!(ids, [2, 3, 4]);
    for id in ids {
        assert_eq!(finished.recv_timeout(wait).unwrap().0, id);
    }

    // Unlike a cast, an enqueue to a server that is gone fails visibly.
    worker
        .stop(ExitReason::Normal, Some(Duration::from_secs(5)))
        .expect("the worker stops");
    let lost = enqueue(Box::new(|| "lost".to_owned()));
    assert_eq!(lost, Err(CallError::NoProc));
    println!("enqueue after stop: {:?}", lost);

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("call_with_cast_semantics: ok");
}
