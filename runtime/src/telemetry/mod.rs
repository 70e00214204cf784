//! Telemetry in the spirit of Elixir's `:telemetry`: named events with
//! measurements and metadata, and handlers attached at run time.
//!
//! An event is a name — a static list of words such as
//! `["rotp", "gen_server", "call", "stop"]` — emitted with two small maps:
//! *measurements* (numbers: durations, counts) and *metadata* (what it is
//! about: pids, names, reasons). A handler is a plain function attached to
//! one or more event names under an id; it runs on the emitting thread,
//! synchronously, for every event it is attached to.
//!
//! ```
//! use rotp_runtime::telemetry::{self, Value};
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//!
//! const QUERY_DONE: telemetry::EventName = &["my_app", "repo", "query"];
//!
//! let rows = Arc::new(AtomicU64::new(0));
//! let total = rows.clone();
//! telemetry::attach("count-rows", QUERY_DONE, move |_event, measurements, _metadata| {
//!     total.fetch_add(measurements.u64("rows").unwrap_or(0), Ordering::Relaxed);
//! })
//! .unwrap();
//!
//! telemetry::execute(QUERY_DONE, &[("rows", 3u64.into())], &[("table", "users".into())]);
//! telemetry::execute(QUERY_DONE, &[("rows", 2u64.into())], &[("table", "posts".into())]);
//! assert_eq!(rows.load(Ordering::Relaxed), 5);
//!
//! telemetry::detach("count-rows").unwrap();
//! telemetry::execute(QUERY_DONE, &[("rows", 9u64.into())], &[]);
//! assert_eq!(rows.load(Ordering::Relaxed), 5);
//! ```
//!
//! # Cost
//!
//! With no handler attached, an event site costs one relaxed load of a
//! global word and a branch; nothing is built, no clock is read. The word
//! holds one bit per family of built-in events (calls, casts and infos,
//! processes, supervisors, mailboxes, the scheduler, everything else), so a
//! handler on supervisor events leaves the call path at that one load.
//! Attached handlers live in a copy-on-write table that emitting threads
//! read without a lock (see `handlers.rs`).
//!
//! # Handlers that fail
//!
//! A handler that panics is detached, reported through `log`, and
//! [`event::HANDLER_FAILURE`] is emitted; the code that emitted the event
//! carries on, and so do the other handlers.
//!
//! # Built-in events
//!
//! The runtime emits process spawn and exit, the watchdog's long
//! schedules, per-worker utilisation once a second and mailbox high-water
//! crossings; the gen_server and supervisor layers emit theirs (see
//! [`event`] for the full table). Handlers run on the thread that emits:
//! a gen_server's events run inside that server's callback, so keep
//! handlers short and never block in them.

pub(crate) mod emit;
pub mod event;
mod handlers;
mod span;
mod value;

pub(crate) use handlers::{dispatch, enabled, family};
pub use span::{span, HandlerKind, HandlerSpan};
pub use value::{Fields, Measurements, Metadata, Value};

/// An event name: a static list of words, `&["my_app", "repo", "query"]`.
pub type EventName = &'static [&'static str];

/// Attaching a handler failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttachError {
    /// A handler with this id is attached already (`{:error, :already_exists}`).
    #[error("a telemetry handler with id `{0}` is already attached")]
    AlreadyExists(String),
}

/// Detaching a handler failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DetachError {
    /// No handler has this id (`{:error, :not_found}`).
    #[error("no telemetry handler with id `{0}`")]
    NotFound(String),
}

/// One attached handler and one of its events, as [`list_handlers`]
/// reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandlerInfo {
    /// The handler's id.
    pub id: String,
    /// One event it is attached to.
    pub event: EventName,
}

/// Attaches `handler` to `event` under `id` (`:telemetry.attach/4`; the
/// handler's configuration is whatever the closure captures).
///
/// The handler receives the event name, the measurements and the
/// metadata. Ids are unique: attaching a second handler under an id in use
/// fails with [`AttachError::AlreadyExists`].
pub fn attach<F>(id: impl Into<String>, event: EventName, handler: F) -> Result<(), AttachError>
where
    F: Fn(&[&'static str], &Fields<'_>, &Fields<'_>) + Send + Sync + 'static,
{
    attach_many(id, &[event], handler)
}

/// Attaches one handler to several events under one id
/// (`:telemetry.attach_many/4`).
///
/// ```
/// use rotp_runtime::telemetry::{self, event};
/// telemetry::attach_many("calls", &[event::GEN_SERVER_CALL_STOP, event::GEN_SERVER_CALL_EXCEPTION], |name, m, _| {
///     log::debug!("{} took {:?}", name.join("."), m.duration("duration"));
/// })
/// .unwrap();
/// assert_eq!(telemetry::list_handlers(&["rotp", "gen_server"]).len(), 2);
/// telemetry::detach("calls").unwrap();
/// ```
pub fn attach_many<F>(
    id: impl Into<String>,
    events: &[EventName],
    handler: F,
) -> Result<(), AttachError>
where
    F: Fn(&[&'static str], &Fields<'_>, &Fields<'_>) + Send + Sync + 'static,
{
    crate::panic::install_hook();
    handlers::attach(id.into(), events.to_vec(), Box::new(handler))
}

/// Detaches the handler attached under `id` (`:telemetry.detach/1`). Once
/// this returns no new call of it starts (a call already running on
/// another thread may still be finishing).
pub fn detach(id: &str) -> Result<(), DetachError> {
    handlers::detach(id)
}

/// Every attached handler whose event starts with `prefix`, one entry per
/// event (`:telemetry.list_handlers/1`); `&[]` lists them all.
pub fn list_handlers(prefix: &[&str]) -> Vec<HandlerInfo> {
    handlers::list(prefix)
}

/// Emits `event` to the handlers attached to it (`:telemetry.execute/3`).
///
/// With no handler attached anywhere, one relaxed load and a branch.
#[inline]
pub fn execute(
    event: &[&'static str],
    measurements: &[(&'static str, Value<'_>)],
    metadata: &[(&'static str, Value<'_>)],
) {
    if enabled(family::ALL) {
        dispatch(event, measurements, metadata);
    }
}

/// Whether any handler is attached to some event (a site that must do
/// work to build its measurements can skip it when not).
#[inline]
pub fn any_attached() -> bool {
    enabled(family::ALL)
}
