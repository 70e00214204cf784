//! A notification queue: producers cast notifications at it; it delivers
//! them to a sink in batches — when a batch is full, or `flush_after` since
//! the first one queued, whichever comes first. Urgent notifications skip
//! the queue.
//!
//! Shows a debounce timer (armed when the queue becomes non-empty, cancelled
//! when a full batch goes out) and how to ignore a timer message that was
//! already on its way when it was cancelled: `ctx.start_timer` (Erlang's
//! `erlang:start_timer`) tags the message with the timer's reference, so
//! the server acts only on the timer it is waiting for.
//!
//! Run with `cargo run --example notification_queue`.

use std::sync::mpsc;
use std::time::Duration;

use rotp::prelude::*;
use rotp::runtime::{TimerFired, TimerRef};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Notification {
    to: String,
    text: String,
    urgent: bool,
}

fn note(to: &str, text: &str) -> Notification {
    Notification {
        to: to.into(),
        text: text.into(),
        urgent: false,
    }
}

struct QueueConfig {
    batch_size: usize,
    flush_after: Duration,
    sink: mpsc::Sender<Vec<Notification>>,
}

struct Queue {
    config: QueueConfig,
    pending: Vec<Notification>,
    /// The flush timer armed for the pending batch.
    timer: Option<TimerRef>,
    batches: usize,
}

enum Call {
    Pending(ReplyTo<usize>),
    Batches(ReplyTo<usize>),
}

/// The flush timer's message: which timer fired.
struct Flush(TimerRef);

impl From<TimerFired<()>> for Flush {
    fn from(fired: TimerFired<()>) -> Self {
        Flush(fired.tref)
    }
}

impl Queue {
    fn flush(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(timer) = self.timer.take() {
            // Too late if it has fired already: its message is then
            // ignored, as its reference is no longer `self.timer`.
            ctx.cancel_timer(timer);
        }
        if !self.pending.is_empty() {
            self.batches += 1;
            let batch = std::mem::take(&mut self.pending);
            // The sink may be gone at shutdown; nothing to do then.
            let _ = self.config.sink.send(batch);
        }
    }
}

#[gen_server]
impl GenServer for Queue {
    fn init(config: QueueConfig, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Queue {
            config,
            pending: Vec::new(),
            timer: None,
            batches: 0,
        })
    }

    fn handle_cast(&mut self, n: Notification, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        if self.pending.is_empty() && !n.urgent {
            self.timer = Some(ctx.start_timer(self.config.flush_after, ()));
        }
        let urgent = n.urgent;
        self.pending.push(n);
        // Urgent: deliver what is queued plus this one, now.
        if urgent || self.pending.len() >= self.config.batch_size {
            self.flush(ctx);
        }
        noreply()
    }

    fn handle_info(&mut self, info: Info<Flush>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match info {
            Info::Msg(Flush(tref)) if self.timer == Some(tref) => {
                self.timer = None;
                self.flush(ctx);
            }
            // A timer cancelled after it had fired: its batch already left.
            _ => {}
        }
        noreply()
    }

    fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Pending(r) => r.reply(self.pending.len()),
            Call::Batches(r) => r.reply(self.batches),
        }
    }
}

fn texts(batch: &[Notification]) -> Vec<&str> {
    batch.iter().map(|n| n.text.as_str()).collect()
}

pub(crate) fn run() {
    let rt = Runtime::builder()
        .workers(2)
        .virtual_clock()
        .build()
        .expect("runtime");
    let (sink, delivered) = mpsc::channel();
    let config = QueueConfig {
        batch_size: 3,
        flush_after: Duration::from_secs(2),
        sink,
    };
    let queue =
        gen_server::start::<Queue>(&rt, config, StartOptions::new()).expect("the queue starts");
    let wait = Duration::from_secs(5); // real time, for the sink only

    // Two notifications: held back, waiting for more.
    queue.cast(note("ann", "one"));
    queue.cast(note("bob", "two"));
    assert_eq!(queue.call(Call::Pending).unwrap(), 2);
    assert!(delivered.try_recv().is_err());

    // The third fills the batch: delivered at once.
    queue.cast(note("cat", "three"));
    let batch = delivered.recv_timeout(wait).unwrap();
    assert_eq!(texts(&batch), ["one", "two", "three"]);
    println!("full batch delivered: {:?}", texts(&batch));

    // A lone notification goes out when its timer fires, 2 s later.
    queue.cast(note("dan", "four"));
    assert_eq!(queue.call(Call::Pending).unwrap(), 1);
    rt.advance(Duration::from_millis(1_999));
    assert_eq!(queue.call(Call::Pending).unwrap(), 1);
    rt.advance(Duration::from_millis(1));
    let batch = delivered.recv_timeout(wait).unwrap();
    assert_eq!(texts(&batch), ["four"]);
    println!("after 2 s: {:?}", texts(&batch));

    // Urgent ones do not wait.
    queue.cast(note("eve", "five"));
    queue.cast(Notification {
        urgent: true,
        ..note("eve", "server on fire")
    });
    let batch = delivered.recv_timeout(wait).unwrap();
    assert_eq!(texts(&batch), ["five", "server on fire"]);
    println!("urgent: {:?}", texts(&batch));
    // The timer armed for "five" was cancelled: nothing more arrives.
    rt.advance(Duration::from_secs(10));
    assert_eq!(queue.call(Call::Batches).unwrap(), 3);
    assert!(delivered.try_recv().is_err());

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("notification_queue: ok");
}
