//! Streams of tasks: `Task::stream` and `Task::map_concurrent` (Elixir's
//! `Task.async_stream`, rule 194).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use rotp_runtime::{ExitReason, Handle};

use super::{
    wait_any, Body, Running, State, Task, TaskChild, TaskError, TaskShutdown, DEFAULT_TASK_TIMEOUT,
};

impl<T: Send + 'static> Task<T> {
    /// Runs `f` over `items` in tasks, at most `max_concurrency` at once,
    /// each allowed `timeout` (`None`: no limit), and returns one result
    /// per item: in input order if `ordered`, else in completion order
    /// (Elixir's `Task.async_stream(...) |> Enum.to_list()`, rule 194).
    ///
    /// A task that panics gives `Err(Exited(Panic))` for its item (and, as
    /// with [`run`](Self::run), kills a non-trapping owner process). A task
    /// that times out ends the run like Elixir's default
    /// `on_timeout: :exit`: the result ends with `Err(Timeout)` and the
    /// remaining tasks are shut down. See [`Task::stream`] for a lazy
    /// version and other timeout policies.
    ///
    /// # Panics
    ///
    /// If `max_concurrency` is 0.
    ///
    /// ```
    /// use rotp_gen_server::Task;
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let squares = Task::map_concurrent(&rt, 1..=5u64, 2, true, None, |n| n * n);
    /// assert_eq!(squares, vec![Ok(1), Ok(4), Ok(9), Ok(16), Ok(25)]);
    /// ```
    pub fn map_concurrent<I, F>(
        handle: &Handle,
        items: I,
        max_concurrency: usize,
        ordered: bool,
        timeout: Option<Duration>,
        f: F,
    ) -> Vec<Result<T, TaskError>>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        let opts = StreamOptions::new()
            .max_concurrency(max_concurrency)
            .ordered(ordered)
            .timeout(timeout);
        Task::stream(handle, items, opts, f).collect()
    }

    /// A lazy stream of `f(item)` results, each computed in its own task
    /// (`Task.async_stream`, rule 194). Tasks start as the stream is
    /// consumed, at most `max_concurrency` at a time; dropping the stream
    /// early shuts down the tasks still running.
    ///
    /// The stream stays with the process or thread that created it (it is
    /// not `Send`): the tasks it starts belong to that owner.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_gen_server::{OnStreamTimeout, StreamOptions, Task, TaskError};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let opts = StreamOptions::new()
    ///     .max_concurrency(4)
    ///     .timeout(Some(Duration::from_secs(5)))
    ///     .on_timeout(OnStreamTimeout::KillTask);
    /// let lengths: Vec<Result<usize, TaskError>> =
    ///     Task::stream(&rt, vec!["a", "bb", "ccc"], opts, str::len).collect();
    /// assert_eq!(lengths, vec![Ok(1), Ok(2), Ok(3)]);
    /// ```
    pub fn stream<I, F>(
        handle: &Handle,
        items: I,
        opts: StreamOptions,
        f: F,
    ) -> TaskStream<I::IntoIter, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        let h = handle.clone();
        let spawn: Spawn<T> = Box::new(move |body| Ok(Running::start(&h, body)));
        TaskStream::new(handle, items, opts, f, spawn)
    }

    /// [`stream`](Self::stream) whose tasks someone else spawns: each task
    /// is [prepared](Self::prepare) here, owned by the caller and linked to
    /// it if `link_owner`, and `spawn` must spawn its [`TaskChild`] — a
    /// task supervisor's `async_stream` (linked) and `async_stream_nolink`
    /// (rule 194). If `spawn` fails, or returns without spawning the child,
    /// the stream ends there as on a timeout with `on_timeout: Exit`: the
    /// results already in, then that error, then nothing; the tasks still
    /// running are stopped.
    ///
    /// ```
    /// use rotp_gen_server::{StreamOptions, Task};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let h = rt.handle().clone();
    /// let doubled: Vec<_> = Task::stream_spawned_by(
    ///     &rt,
    ///     1..=3u32,
    ///     StreamOptions::new().max_concurrency(2),
    ///     |n| n * 2,
    ///     true,
    ///     move |child| {
    ///         child.spawn_link(&h);
    ///         Ok(())
    ///     },
    /// )
    /// .collect();
    /// assert_eq!(doubled, vec![Ok(2), Ok(4), Ok(6)]);
    /// ```
    pub fn stream_spawned_by<I, F, S>(
        handle: &Handle,
        items: I,
        opts: StreamOptions,
        f: F,
        link_owner: bool,
        spawn: S,
    ) -> TaskStream<I::IntoIter, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
        S: Fn(TaskChild<T>) -> Result<(), TaskError> + 'static,
    {
        let h = handle.clone();
        let spawn: Spawn<T> = Box::new(move |body| {
            let (pending, child) = Task::prepare(&h, body, link_owner);
            spawn(child)?;
            match pending.spawned().map(|task| task.state) {
                Some(State::Running(running)) => Ok(running),
                _ => Err(TaskError::Exited(ExitReason::NoProc)),
            }
        });
        TaskStream::new(handle, items, opts, f, spawn)
    }
}

/// Starts one task of a stream.
type Spawn<T> = Box<dyn Fn(Body<T>) -> Result<Running<T>, TaskError>>;

impl<I: Iterator, T> TaskStream<I, T> {
    fn new<F>(
        handle: &Handle,
        items: impl IntoIterator<IntoIter = I>,
        opts: StreamOptions,
        f: F,
        spawn: Spawn<T>,
    ) -> Self
    where
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        TaskStream {
            handle: handle.clone(),
            spawn,
            items: items.into_iter(),
            f: Arc::new(f),
            max: opts
                .max_concurrency
                .unwrap_or_else(|| handle.workers())
                .max(1),
            ordered: opts.ordered,
            timeout: opts.timeout,
            on_timeout: opts.on_timeout,
            running: Vec::new(),
            ready: BTreeMap::new(),
            next_in: 0,
            next_out: 0,
            exhausted: false,
            halted: false,
            _not_send: PhantomData,
        }
    }
}

/// What a [`TaskStream`] does when a task exceeds its timeout (Elixir's
/// `on_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnStreamTimeout {
    /// End the stream (Elixir's default, where the caller exits): the
    /// results already in (in order, when ordered) come first, then
    /// `Err(Timeout)`, then nothing; every task still running is shut
    /// down.
    #[default]
    Exit,
    /// Kill that task; its item yields `Err(Timeout)` and the stream goes
    /// on.
    KillTask,
}

/// Options of [`Task::stream`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    max_concurrency: Option<usize>,
    ordered: bool,
    timeout: Option<Duration>,
    on_timeout: OnStreamTimeout,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            max_concurrency: None,
            ordered: true,
            timeout: Some(DEFAULT_TASK_TIMEOUT),
            on_timeout: OnStreamTimeout::Exit,
        }
    }
}

impl StreamOptions {
    /// Elixir's defaults: as many tasks at once as the runtime has
    /// workers, ordered, 5 seconds per task, `on_timeout: Exit`.
    pub fn new() -> Self {
        StreamOptions::default()
    }

    /// At most `n` tasks run at once.
    ///
    /// # Panics
    ///
    /// If `n` is 0 (Elixir raises `ArgumentError`).
    pub fn max_concurrency(mut self, n: usize) -> Self {
        assert!(n > 0, "max_concurrency must be greater than 0");
        self.max_concurrency = Some(n);
        self
    }

    /// Results in input order (`true`, the default) or in completion order.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// How long each task may run, from its start; `None`: no limit.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// What happens when a task exceeds the timeout.
    pub fn on_timeout(mut self, on_timeout: OnStreamTimeout) -> Self {
        self.on_timeout = on_timeout;
        self
    }
}

/// One task of a stream.
struct InFlight<T> {
    index: usize,
    task: Running<T>,
    deadline: Option<Duration>,
}

/// The lazy stream of [`Task::stream`]: an iterator of one
/// `Result<T, TaskError>` per item.
///
/// It is not `Send`: the tasks it starts belong to the process or thread
/// that consumes it (rule 186).
///
/// ```compile_fail
/// use rotp_gen_server::{StreamOptions, Task};
/// fn send_away<T: Send>(_: T) {}
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// send_away(Task::stream(&rt, 0..3u8, StreamOptions::new(), |n| n + 1));
/// ```
pub struct TaskStream<I: Iterator, T> {
    handle: Handle,
    spawn: Spawn<T>,
    items: I,
    f: Arc<dyn Fn(I::Item) -> T + Send + Sync>,
    max: usize,
    ordered: bool,
    timeout: Option<Duration>,
    on_timeout: OnStreamTimeout,
    running: Vec<InFlight<T>>,
    /// Finished results, keyed by input index (ordered) or by completion
    /// sequence (unordered).
    ready: BTreeMap<usize, Result<T, TaskError>>,
    next_in: usize,
    /// The next key to emit (ordered), or the next completion sequence
    /// number to assign (unordered).
    next_out: usize,
    exhausted: bool,
    halted: bool,
    /// Tasks belong to whoever started them: the stream must not move.
    _not_send: PhantomData<*const ()>,
}

impl<I: Iterator, T> fmt::Debug for TaskStream<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskStream")
            .field("running", &self.running.len())
            .field("ready", &self.ready.len())
            .field("started", &self.next_in)
            .field("exhausted", &self.exhausted)
            .finish()
    }
}

impl<I, T> TaskStream<I, T>
where
    I: Iterator,
    I::Item: Send + 'static,
    T: Send + 'static,
{
    fn pop_ready(&mut self) -> Option<Result<T, TaskError>> {
        if self.ordered {
            let result = self.ready.remove(&self.next_out)?;
            self.next_out += 1;
            Some(result)
        } else {
            self.ready.pop_first().map(|(_, r)| r)
        }
    }

    fn push_ready(&mut self, index: usize, result: Result<T, TaskError>) {
        let key = if self.ordered {
            index
        } else {
            self.next_out += 1;
            self.next_out
        };
        self.ready.insert(key, result);
    }

    /// Starts tasks until `max` run or the items run out.
    fn fill(&mut self) {
        while !self.exhausted && !self.halted && self.running.len() < self.max {
            match self.items.next() {
                None => self.exhausted = true,
                Some(item) => {
                    let f = self.f.clone();
                    let task = match (self.spawn)(Box::new(move || f(item))) {
                        Ok(task) => task,
                        Err(e) => return self.halt(e),
                    };
                    self.running.push(InFlight {
                        index: self.next_in,
                        task,
                        deadline: self.timeout.map(|t| self.handle.now() + t),
                    });
                    self.next_in += 1;
                }
            }
        }
    }

    /// Harvests finished and timed-out tasks; waits for one if none.
    fn progress(&mut self) {
        if self.harvest() {
            return;
        }
        let now = self.handle.now();
        let next_deadline = self.running.iter().filter_map(|t| t.deadline).min();
        let left = next_deadline.map(|d| d.saturating_sub(now));
        let pending: Vec<&Running<T>> = self.running.iter().map(|t| &t.task).collect();
        if let Err(e) = wait_any(&pending, left) {
            // Cannot wait any longer (the owner is exiting): keep what is
            // in, then end.
            self.harvest();
            self.halt(e);
        }
    }

    /// Moves finished tasks to `ready` and applies the timeout policy to
    /// late ones; returns whether anything changed.
    fn harvest(&mut self) -> bool {
        let now = self.handle.now();
        let mut progressed = false;
        let mut i = 0;
        while i < self.running.len() {
            if let Some(outcome) = self.running[i].task.poll() {
                let done = self.running.remove(i);
                self.push_ready(done.index, outcome);
                progressed = true;
            } else if self.running[i].deadline.is_some_and(|d| d <= now) {
                let late = self.running.remove(i);
                match self.on_timeout {
                    OnStreamTimeout::KillTask => {
                        let outcome = match late.task.shutdown(TaskShutdown::BrutalKill) {
                            Ok(Some(value)) => Ok(value),
                            _ => Err(TaskError::Timeout),
                        };
                        self.push_ready(late.index, outcome);
                    }
                    OnStreamTimeout::Exit => {
                        late.task.stop(ExitReason::Killed);
                        self.halt(TaskError::Timeout);
                        return true;
                    }
                }
                progressed = true;
            } else {
                i += 1;
            }
        }
        progressed
    }

    /// Ends the stream with `error`, shutting down what still runs. What
    /// can still be emitted comes first (in order, when ordered), then the
    /// error, then nothing.
    fn halt(&mut self, error: TaskError) {
        if self.halted {
            return;
        }
        self.halted = true;
        for t in self.running.drain(..) {
            t.task.stop(ExitReason::Killed);
        }
        if self.ordered {
            let mut key = self.next_out;
            while self.ready.contains_key(&key) {
                key += 1;
            }
            drop(self.ready.split_off(&key));
            self.ready.insert(key, Err(error));
        } else {
            self.push_ready(0, Err(error));
        }
    }
}

impl<I, T> Iterator for TaskStream<I, T>
where
    I: Iterator,
    I::Item: Send + 'static,
    T: Send + 'static,
{
    type Item = Result<T, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(result) = self.pop_ready() {
                return Some(result);
            }
            if self.halted {
                return None;
            }
            self.fill();
            if self.halted {
                continue; // a task could not be started: what is in, then the error
            }
            if self.running.is_empty() {
                return None;
            }
            self.progress();
        }
    }
}

impl<I: Iterator, T> Drop for TaskStream<I, T> {
    fn drop(&mut self) {
        // Rule 194: a consumer that stops early shuts the rest down.
        for t in self.running.drain(..) {
            t.task.stop(ExitReason::Killed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "max_concurrency")]
    fn zero_concurrency_is_rejected() {
        let _ = StreamOptions::new().max_concurrency(0);
    }
}
