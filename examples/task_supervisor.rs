//! Task.Supervisor: tasks started under a supervisor instead of loose.
//!
//! ```elixir
//! children = [{Task.Supervisor, name: MyApp.TaskSupervisor}]
//! Supervisor.start_link(children, strategy: :one_for_one)
//!
//! Task.Supervisor.start_child(MyApp.TaskSupervisor, fn -> send_email() end)
//! task = Task.Supervisor.async(MyApp.TaskSupervisor, fn -> compute() end)
//! Task.await(task)
//! task = Task.Supervisor.async_nolink(MyApp.TaskSupervisor, fn -> risky() end)
//! Task.yield(task)   # {:exit, reason} if it crashed; the caller lives on
//! ```
//!
//! - `TaskSupervisor::start_child` is fire-and-forget; `run` and
//!   `run_nolink` (Elixir's `async` and `async_nolink`) return the same
//!   `Task` as `Task::run`, so `await_result`, `yield_timeout` and
//!   `shutdown` work as usual.
//! - `run_nolink` tasks are not linked to the caller: a crash comes back as
//!   `Err(TaskError::Exited(..))` and nothing else happens to the caller.
//! - A full supervisor (`max_children`) is an error value, not a raise.
//! - Inside a GenServer, `run_nolink_info` delivers the result and the
//!   `DOWN` to `handle_info`, like `{ref, result}` and
//!   `{:DOWN, ref, ...}` in Elixir.
//!
//! Run with `cargo run --example task_supervisor`.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

use rotp::prelude::*;
use rotp::supervisor::TaskRunError;

/// A pretend page fetch: fails for URLs that say so.
fn fetch(url: &str) -> usize {
    assert!(!url.contains("broken"), "cannot fetch {url}");
    url.len() * 100
}

/// Each page's size, or why it could not be fetched.
type Sizes = HashMap<String, Result<usize, String>>;

/// A crawler that fetches pages in supervised tasks and never blocks on
/// them: results and failures arrive in `handle_info`.
struct Crawler {
    tasks: TaskSupervisor,
    /// The running fetches, by the reference their messages carry.
    pending: HashMap<MonitorRef, String>,
    sizes: Sizes,
    /// Who wants to know when everything is in.
    done: Option<mpsc::Sender<Sizes>>,
}

/// Starts fetching `urls`; the sizes go to the sender once all are in.
struct Crawl(
    Vec<&'static str>,
    mpsc::Sender<Sizes>,
    ReplyTo<Result<(), TaskRunError>>,
);

enum CrawlerInfo {
    /// A fetch finished: `{ref, result}`.
    Fetched(MonitorRef, usize),
}

impl Crawler {
    fn maybe_done(&mut self) {
        if self.pending.is_empty() {
            if let Some(done) = self.done.take() {
                let _ = done.send(self.sizes.clone());
            }
        }
    }
}

#[gen_server]
impl GenServer for Crawler {
    fn init(tasks: TaskSupervisor, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Crawler {
            tasks,
            pending: HashMap::new(),
            sizes: HashMap::new(),
            done: None,
        })
    }

    fn handle_call(
        &mut self,
        Crawl(urls, done, r): Crawl,
        ctx: &mut Ctx<'_, Self>,
    ) -> Handled<Self> {
        self.done = Some(done);
        for url in urls {
            let fetched = self
                .tasks
                .run_nolink_info(ctx, move || fetch(url), CrawlerInfo::Fetched);
            match fetched {
                Ok(mref) => self.pending.insert(mref, url.to_owned()),
                Err(e) => return r.reply(Err(e)),
            };
        }
        r.reply(Ok(()))
    }

    fn handle_info(&mut self, info: Info<CrawlerInfo>, ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match info {
            // The task answered: drop its DOWN, keep the result.
            Info::Msg(CrawlerInfo::Fetched(mref, size)) => {
                ctx.demonitor_flush(mref);
                if let Some(url) = self.pending.remove(&mref) {
                    self.sizes.insert(url, Ok(size));
                }
            }
            // The task died without answering.
            Info::Down(down) => {
                if let Some(url) = self.pending.remove(&down.mref) {
                    self.sizes.insert(url, Err(down.reason.to_string()));
                }
            }
            _ => {}
        }
        self.maybe_done();
        noreply()
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");

    // {Task.Supervisor, name: ...} under the application's supervisor.
    let opts = TaskSupervisorOptions::new()
        .max_children(8)
        .name("app.tasks");
    let app = Supervisor::start_link(
        &rt,
        vec![TaskSupervisor::child_spec(opts)],
        SupervisorOptions::new().name("app"),
    )
    .expect("the application starts");
    let tasks = TaskSupervisor::whereis(&rt, "app.tasks").expect("the task supervisor runs");

    // Fire and forget.
    let (tx, rx) = mpsc::channel();
    tasks
        .start_child(move || tx.send("welcome email sent").unwrap())
        .unwrap();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        "welcome email sent"
    );
    println!("start_child: welcome email sent");

    // async / await.
    let task = tasks.run(|| (1..=20u64).product::<u64>()).unwrap();
    assert_eq!(task.await_result(), Ok(2_432_902_008_176_640_000));
    println!("run + await_result: 20! computed under the supervisor");

    // async_nolink: the crash is a value.
    let mut risky = tasks.run_nolink(|| fetch("http://broken.example")).unwrap();
    match risky.yield_timeout(Duration::from_secs(5)) {
        Err(TaskError::Exited(reason)) => println!("run_nolink: the task crashed ({reason})"),
        other => panic!("expected the crash, got {other:?}"),
    }

    // Inside a GenServer: results and DOWNs through handle_info.
    let crawler = gen_server::start::<Crawler>(&rt, tasks.clone(), StartOptions::new())
        .expect("the crawler starts");
    let (done, report) = mpsc::channel();
    let urls = vec![
        "http://a.example",
        "http://broken.example/b",
        "http://ccc.example",
    ];
    crawler.call(|r| Crawl(urls, done, r)).unwrap().unwrap();
    let sizes = report.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(sizes["http://a.example"], Ok(1_600));
    assert_eq!(sizes["http://ccc.example"], Ok(1_800));
    assert!(sizes["http://broken.example/b"]
        .as_ref()
        .is_err_and(|e| e.contains("cannot fetch")));
    println!(
        "crawler: {} pages, one failed, the server lives on",
        sizes.len()
    );
    assert!(crawler.is_alive());

    // A bounded supervisor says no instead of raising.
    let small =
        TaskSupervisor::start_link(&rt, TaskSupervisorOptions::new().max_children(1)).unwrap();
    let (release, gate) = mpsc::channel::<()>();
    let busy = small
        .run(move || gate.recv_timeout(Duration::from_secs(5)).is_ok())
        .unwrap();
    assert_eq!(small.run(|| true).unwrap_err(), TaskRunError::MaxChildren);
    println!("max_children: {}", TaskRunError::MaxChildren);
    assert_eq!(small.children().unwrap(), [busy.pid().unwrap()]);
    release.send(()).unwrap();
    assert_eq!(busy.await_result(), Ok(true));

    app.stop_timeout(ExitReason::Normal, Some(Duration::from_secs(5)))
        .expect("the application stops");
    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("task_supervisor: ok");
}
