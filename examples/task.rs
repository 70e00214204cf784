//! Task: run a function in its own process and collect the result later.
//!
//! ```elixir
//! task = Task.async(fn -> expensive() end)
//! other_work()
//! Task.await(task)
//! ```
//!
//! - `Task::run` starts the function (linked to the caller); `await_result`
//!   waits for it (5 s by default). Task bodies are plain blocking code:
//!   they run on the blocking-aware path and never hold up other processes.
//! - `await_many`, `yield_timeout` + `shutdown`, `map_concurrent` (Elixir's
//!   `async_stream`), and fire-and-forget `Task::start`.
//! - Errors are values: a task that panics gives `Err(TaskError::Exited)`.
//!
//! Run with `cargo run --example task`.

use std::sync::mpsc;
use std::time::Duration;

use rotp::prelude::*;

fn is_prime(n: u64) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

fn count_primes(range: std::ops::Range<u64>) -> usize {
    range.filter(|n| is_prime(*n)).count()
}

/// A server whose requests fan out to tasks: it awaits them inside its own
/// callback, which blocks only this server.
struct Indexer {
    handle: Handle,
}

/// Counts the words of each document.
struct WordCounts(Vec<&'static str>, ReplyTo<Vec<usize>>);

#[gen_server]
impl GenServer for Indexer {
    fn init(handle: Handle, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Indexer { handle })
    }

    fn handle_call(
        &mut self,
        WordCounts(docs, r): WordCounts,
        _ctx: &mut Ctx<'_, Self>,
    ) -> Handled<Self> {
        let timeout = Some(Duration::from_secs(5));
        let words = Task::map_concurrent(&self.handle, docs, 2, true, timeout, |doc: &str| {
            doc.split_whitespace().count()
        });
        r.reply(words.into_iter().map(Result::unwrap).collect())
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");

    // async / await.
    let task = Task::run(&rt, || count_primes(0..10_000));
    let meanwhile = count_primes(10_000..20_000);
    let first = task.await_result().unwrap();
    assert_eq!((first, meanwhile), (1_229, 1_033));
    println!("primes below 10 000: {first} (counted in a task), next 10 000: {meanwhile}");

    // Fan out, fan in: results come back in input order.
    let tasks: Vec<Task<usize>> = (0..4u64)
        .map(|i| Task::run(&rt, move || count_primes(i * 5_000..(i + 1) * 5_000)))
        .collect();
    let counts = Task::await_many(tasks, Some(Duration::from_secs(5))).unwrap();
    assert_eq!(counts.iter().sum::<usize>(), 2_262);
    println!("per 5 000: {counts:?}");

    // A task that panics: the error comes back as a value.
    let crashed = Task::run(&rt, || -> u32 { panic!("bad input") }).await_result();
    assert!(matches!(
        crashed,
        Err(TaskError::Exited(ExitReason::Panic(_)))
    ));
    println!("a crashing task: {}", crashed.unwrap_err());

    // Too slow? Yield for a while, then shut it down. The body checks
    // `Task::is_exiting` so it can stop early: a body is never interrupted.
    let mut slow = Task::run(&rt, || {
        let mut n = 0u64;
        while !Task::is_exiting() {
            n = n.wrapping_add(1);
            std::hint::spin_loop();
        }
        n
    });
    assert_eq!(slow.yield_timeout(Duration::from_millis(10)), Ok(None));
    assert_eq!(slow.shutdown(TaskShutdown::default()), Ok(None));
    println!("a slow task, yielded for 10 ms then shut down");

    // async_stream: at most 3 at a time, results in input order.
    let lengths = Task::map_concurrent(
        &rt,
        ["alpha", "beta", "gamma", "delta", "epsilon"],
        3,
        true,
        Some(Duration::from_secs(5)),
        str::len,
    );
    let lengths: Vec<usize> = lengths.into_iter().map(Result::unwrap).collect();
    assert_eq!(lengths, [5, 4, 5, 5, 7]);

    // Tasks from inside a GenServer callback.
    let indexer = gen_server::start::<Indexer>(&rt, rt.handle().clone(), StartOptions::new())
        .expect("the indexer starts");
    let docs = vec!["a b c", "hello world", "one"];
    let words = indexer.call(|r| WordCounts(docs, r)).unwrap();
    assert_eq!(words, [3, 2, 1]);
    println!("word counts computed by tasks inside a server: {words:?}");

    // Fire and forget.
    let (tx, rx) = mpsc::channel();
    Task::start(&rt, move || tx.send("logged").unwrap());
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), "logged");

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("task: ok");
}
