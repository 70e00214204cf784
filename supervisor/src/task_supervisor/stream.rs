//! Streams of supervised tasks: Elixir's `Task.Supervisor.async_stream`
//! and `async_stream_nolink` (rule 194 under a task supervisor). The stream
//! itself is `rotp_gen_server`'s [`TaskStream`]; only the start of each
//! task differs: it is a child of the supervisor.

use rotp_gen_server::{StreamOptions, Task, TaskError, TaskStream};
use rotp_runtime::{ExitReason, Handle};

use super::{once, TaskOptions, TaskSupervisor};
use crate::dynamic_spec::DynamicChildSpec;
use crate::error::{CallError, TaskRunError};

impl TaskSupervisor {
    /// A lazy stream of `f(item)` results, each computed in a task under
    /// this supervisor and linked to the caller, at most `max_concurrency`
    /// at a time (Elixir's `Task.Supervisor.async_stream`). Ordering,
    /// timeouts and early drop behave as for [`Task::stream`].
    ///
    /// Keep `max_concurrency` at or below the supervisor's `max_children`
    /// (counting its other tasks): a task that cannot be started ends the
    /// stream — the results already in, then
    /// `Err(TaskError::Exited(reason))` with a `max_children` reason (Elixir
    /// raises), then nothing — and the tasks still running are stopped.
    ///
    /// ```
    /// use rotp_gen_server::StreamOptions;
    /// use rotp_supervisor::{TaskSupervisor, TaskSupervisorOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let tasks = TaskSupervisor::start_link(&rt, TaskSupervisorOptions::new()).unwrap();
    /// let opts = StreamOptions::new().max_concurrency(2);
    /// let squares: Vec<_> = tasks.stream(1..=4u64, opts, |n| n * n).collect();
    /// assert_eq!(squares, vec![Ok(1), Ok(4), Ok(9), Ok(16)]);
    /// ```
    #[doc(alias = "async_stream")]
    pub fn stream<I, T, F>(&self, items: I, opts: StreamOptions, f: F) -> TaskStream<I::IntoIter, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        self.stream_with(items, opts, f, true)
    }

    /// [`stream`](Self::stream) with tasks not linked to the caller
    /// (Elixir's `Task.Supervisor.async_stream_nolink`): a task that panics
    /// gives `Err(TaskError::Exited(reason))` for its item and does not
    /// reach the caller.
    ///
    /// ```
    /// use rotp_gen_server::{StreamOptions, TaskError};
    /// use rotp_supervisor::{TaskSupervisor, TaskSupervisorOptions};
    ///
    /// let rt = rotp_runtime::Runtime::new().unwrap();
    /// let tasks = TaskSupervisor::start_link(&rt, TaskSupervisorOptions::new()).unwrap();
    /// let halves: Vec<_> = tasks
    ///     .stream_nolink([4u32, 3, 2], StreamOptions::new(), |n| {
    ///         assert!(n % 2 == 0, "odd");
    ///         n / 2
    ///     })
    ///     .collect();
    /// assert_eq!(halves[0], Ok(2));
    /// assert!(matches!(halves[1], Err(TaskError::Exited(_))));
    /// assert_eq!(halves[2], Ok(1));
    /// ```
    #[doc(alias = "async_stream_nolink")]
    pub fn stream_nolink<I, T, F>(
        &self,
        items: I,
        opts: StreamOptions,
        f: F,
    ) -> TaskStream<I::IntoIter, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        self.stream_with(items, opts, f, false)
    }

    fn stream_with<I, T, F>(
        &self,
        items: I,
        opts: StreamOptions,
        f: F,
        link: bool,
    ) -> TaskStream<I::IntoIter, T>
    where
        I: IntoIterator,
        I::Item: Send + 'static,
        T: Send + 'static,
        F: Fn(I::Item) -> T + Send + Sync + 'static,
    {
        let sup = self.clone();
        Task::stream_spawned_by(&self.handle, items, opts, f, link, move |child| {
            let spec =
                DynamicChildSpec::worker(once(child, |child| child.spawn_link(&Handle::current())));
            sup.start_task(spec, TaskOptions::new())
                .map(drop)
                .map_err(|e| task_error(e.into()))
        })
    }
}

/// How a stream reports a task it could not start.
fn task_error(e: TaskRunError) -> TaskError {
    TaskError::Exited(match e {
        TaskRunError::Call(CallError::NoProc) => ExitReason::NoProc,
        TaskRunError::Call(CallError::Exited(reason)) | TaskRunError::Failed(reason) => reason,
        other => ExitReason::custom(other),
    })
}
