//! Waiting on several tasks at once: `await_many` and `yield_many` (rule
//! 189).

use std::time::Duration;

use rotp_runtime::ExitReason;

use super::{wait_any, Running, State, Task, TaskError, TaskShutdown, DEFAULT_TASK_TIMEOUT};

impl<T: Send + 'static> Task<T> {
    /// Awaits every task, up to `timeout` in total (`None`: forever), and
    /// returns their results in input order (`Task.await_many`, rule 189).
    /// Fails at once when any task exits without a result, or when the
    /// timeout passes; the other tasks are left running.
    ///
    /// ```
    /// use rotp_gen_server::{Task, DEFAULT_TASK_TIMEOUT};
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let tasks: Vec<_> = (1..=3u32).map(|n| Task::run(&rt, move || n * 10)).collect();
    /// assert_eq!(Task::await_many(tasks, Some(DEFAULT_TASK_TIMEOUT)), Ok(vec![10, 20, 30]));
    /// ```
    pub fn await_many(tasks: Vec<Task<T>>, timeout: Option<Duration>) -> Result<Vec<T>, TaskError> {
        for task in &tasks {
            task.check_owner()?;
        }
        let mut results: Vec<Option<T>> = Vec::with_capacity(tasks.len());
        let mut pending = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            match task.state {
                State::Running(r) => {
                    results.push(None);
                    pending.push((i, r));
                }
                State::Completed(value) => results.push(Some(value)),
                State::Taken => return Err(TaskError::Exited(ExitReason::NoProc)),
            }
        }
        if let Some((_, first)) = pending.first() {
            let handle = first.addr.handle();
            let deadline = timeout.map(|t| handle.now() + t);
            loop {
                let mut i = 0;
                while i < pending.len() {
                    match pending[i].1.poll() {
                        Some(outcome) => {
                            let (index, _) = pending.remove(i);
                            results[index] = Some(outcome?);
                        }
                        None => i += 1,
                    }
                }
                if pending.is_empty() {
                    break;
                }
                let left = deadline.map(|d| d.saturating_sub(handle.now()));
                if left == Some(Duration::ZERO) {
                    return Err(TaskError::Timeout);
                }
                let refs: Vec<&Running<T>> = pending.iter().map(|(_, r)| r).collect();
                let woke = wait_any(&refs, left);
                if let Ok(true) = woke {
                    continue;
                }
                // Timed out, or cannot wait any longer: a last look (a task
                // that died is the better answer), then give up.
                for (index, r) in &mut pending {
                    if let Some(outcome) = r.poll() {
                        results[*index] = Some(outcome?);
                    }
                }
                if results.iter().all(Option::is_some) {
                    break;
                }
                return Err(woke.err().unwrap_or(TaskError::Timeout));
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("every task produced a result"))
            .collect())
    }

    /// Yields every task for up to `timeout` in total
    /// (`Task.yield_many/2`, rule 189): one entry per task, in input order,
    /// as [`yield_timeout`](Self::yield_timeout) would return it. Tasks
    /// still running (`Ok(None)`) stay in `tasks` and may be yielded again.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotp_gen_server::Task;
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let mut tasks = vec![Task::run(&rt, || 1), Task::run(&rt, || panic!("boom"))];
    /// let results = Task::yield_many(&mut tasks, Duration::from_secs(5));
    /// assert_eq!(results[0], Ok(Some(1)));
    /// assert!(results[1].as_ref().unwrap_err().to_string().contains("boom"));
    /// ```
    pub fn yield_many(
        tasks: &mut [Task<T>],
        timeout: Duration,
    ) -> Vec<Result<Option<T>, TaskError>> {
        Task::yield_many_with(tasks, YieldManyOptions::new().timeout(timeout))
    }

    /// [`yield_many`](Self::yield_many) with options: a limit on how many
    /// results to wait for, and what to do with tasks still running at the
    /// timeout (rule 189).
    pub fn yield_many_with(
        tasks: &mut [Task<T>],
        opts: YieldManyOptions,
    ) -> Vec<Result<Option<T>, TaskError>> {
        let mut results: Vec<Option<Result<Option<T>, TaskError>>> =
            Vec::with_capacity(tasks.len());
        let mut handle = None;
        for task in tasks.iter_mut() {
            results.push(match task.check_owner() {
                Err(e) => Some(Err(e)),
                Ok(()) => match &task.state {
                    State::Running(r) => {
                        handle.get_or_insert_with(|| r.addr.handle());
                        None
                    }
                    State::Completed(_) | State::Taken => Some(task.take_now()),
                },
            });
        }
        let limit = opts.limit.unwrap_or(usize::MAX);
        if let Some(handle) = handle {
            let deadline = handle.now() + opts.timeout;
            loop {
                for (task, result) in tasks.iter_mut().zip(results.iter_mut()) {
                    if result.is_none() {
                        if let Some(outcome) = task.poll_running() {
                            *result = Some(outcome.map(Some));
                        }
                    }
                }
                let done = results.iter().filter(|r| r.is_some()).count();
                if done == results.len() || done >= limit {
                    break;
                }
                let left = deadline.saturating_sub(handle.now());
                if left.is_zero() {
                    break;
                }
                let pending: Vec<&Running<T>> = tasks
                    .iter()
                    .zip(&results)
                    .filter(|(_, r)| r.is_none())
                    .filter_map(|(t, _)| match &t.state {
                        State::Running(r) => Some(r),
                        _ => None,
                    })
                    .collect();
                match wait_any(&pending, Some(left)) {
                    Ok(true) => {}
                    Ok(false) | Err(_) => {
                        // Timed out (or cannot wait): a last look, then the
                        // timeout policy.
                        for (task, result) in tasks.iter_mut().zip(results.iter_mut()) {
                            if result.is_none() {
                                *result = task.poll_running().map(|o| o.map(Some));
                            }
                        }
                        for (task, result) in tasks.iter_mut().zip(results.iter_mut()) {
                            if result.is_none() {
                                *result = match opts.on_timeout {
                                    OnYieldTimeout::Nothing => None,
                                    OnYieldTimeout::Ignore => {
                                        Some(task.take_running(|r| r.ignore()))
                                    }
                                    OnYieldTimeout::KillTask => Some(
                                        task.take_running(|r| r.shutdown(TaskShutdown::BrutalKill)),
                                    ),
                                };
                            }
                        }
                        break;
                    }
                }
            }
        }
        results.into_iter().map(|r| r.unwrap_or(Ok(None))).collect()
    }

    /// The result of a task that needs no waiting (completed or taken).
    fn take_now(&mut self) -> Result<Option<T>, TaskError> {
        match std::mem::replace(&mut self.state, State::Taken) {
            State::Completed(value) => Ok(Some(value)),
            State::Taken => Err(TaskError::Exited(ExitReason::NoProc)),
            State::Running(r) => {
                self.state = State::Running(r);
                Ok(None)
            }
        }
    }

    /// Polls a running task; takes its outcome if it finished.
    fn poll_running(&mut self) -> Option<Result<T, TaskError>> {
        let State::Running(r) = &mut self.state else {
            return None;
        };
        let outcome = r.poll()?;
        self.state = State::Taken;
        Some(outcome)
    }

    fn take_running(
        &mut self,
        f: impl FnOnce(Running<T>) -> Result<Option<T>, TaskError>,
    ) -> Result<Option<T>, TaskError> {
        match std::mem::replace(&mut self.state, State::Taken) {
            State::Running(r) => f(r),
            other => {
                self.state = other;
                self.take_now()
            }
        }
    }
}

/// What [`Task::yield_many_with`] does with tasks still running at the
/// timeout (Elixir's `on_timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnYieldTimeout {
    /// Leave them running; their entry is `Ok(None)` (the default).
    #[default]
    Nothing,
    /// [`ignore`](Task::ignore) them.
    Ignore,
    /// [`shutdown`](Task::shutdown) them with
    /// [`TaskShutdown::BrutalKill`].
    KillTask,
}

/// Options of [`Task::yield_many_with`].
///
/// ```
/// use std::time::Duration;
/// use rotp_gen_server::{OnYieldTimeout, YieldManyOptions};
/// let opts = YieldManyOptions::new()
///     .timeout(Duration::from_millis(100))
///     .limit(2)
///     .on_timeout(OnYieldTimeout::KillTask);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YieldManyOptions {
    timeout: Duration,
    limit: Option<usize>,
    on_timeout: OnYieldTimeout,
}

impl Default for YieldManyOptions {
    fn default() -> Self {
        YieldManyOptions {
            timeout: DEFAULT_TASK_TIMEOUT,
            limit: None,
            on_timeout: OnYieldTimeout::Nothing,
        }
    }
}

impl YieldManyOptions {
    /// 5 seconds, no limit, leave running tasks alone.
    pub fn new() -> Self {
        YieldManyOptions::default()
    }

    /// How long to wait in total.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Return as soon as this many tasks have a result; the timeout policy
    /// then does not apply.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// What to do with tasks still running at the timeout.
    pub fn on_timeout(mut self, on_timeout: OnYieldTimeout) -> Self {
        self.on_timeout = on_timeout;
        self
    }
}
