//! Spans: `start`, then `stop` or `exception`, with the duration.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::event;
use super::handlers::{dispatch, enabled, family};
use super::value::Value;
use crate::pid::Pid;

/// The longest prefix whose `start`/`stop`/`exception` names are built on
/// the stack.
const INLINE_NAME: usize = 8;

/// `prefix` followed by `suffix`, without allocating for short prefixes.
enum NameBuf {
    Inline([&'static str; INLINE_NAME], usize),
    Heap(Vec<&'static str>),
}

impl NameBuf {
    fn new(prefix: &[&'static str], suffix: &'static str) -> Self {
        if prefix.len() < INLINE_NAME {
            let mut buf = [""; INLINE_NAME];
            buf[..prefix.len()].copy_from_slice(prefix);
            buf[prefix.len()] = suffix;
            NameBuf::Inline(buf, prefix.len() + 1)
        } else {
            let mut v = prefix.to_vec();
            v.push(suffix);
            NameBuf::Heap(v)
        }
    }

    fn as_slice(&self) -> &[&'static str] {
        match self {
            NameBuf::Inline(buf, n) => &buf[..*n],
            NameBuf::Heap(v) => v,
        }
    }
}

fn system_time() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Runs `f` as a span: emits `prefix ++ ["start"]` (measurement
/// `system_time`), then `prefix ++ ["stop"]` (measurement `duration`) when
/// it returns, or `prefix ++ ["exception"]` (`duration`; metadata plus
/// `kind: "panic"` and `reason`, the panic message) if it panics, in which
/// case the panic goes on. Every event carries `metadata`. Elixir's
/// `:telemetry.span/3`.
///
/// With no handler attached to any event this is `f()` after one relaxed
/// load.
///
/// ```
/// use rotp_runtime::telemetry;
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// telemetry::attach_many(
///     "span-doc",
///     &[&["doc", "query", "start"], &["doc", "query", "stop"]],
///     move |name, _m, meta| {
///         log.lock().unwrap().push((name.join("."), meta.str("table").unwrap().to_owned()));
///     },
/// )
/// .unwrap();
/// let rows = telemetry::span(&["doc", "query"], &[("table", "users".into())], || 3);
/// assert_eq!(rows, 3);
/// telemetry::detach("span-doc").unwrap();
/// assert_eq!(
///     *seen.lock().unwrap(),
///     [("doc.query.start".into(), "users".into()), ("doc.query.stop".into(), "users".into())]
/// );
/// ```
#[inline]
pub fn span<R>(
    prefix: &[&'static str],
    metadata: &[(&'static str, Value<'_>)],
    f: impl FnOnce() -> R,
) -> R {
    if !enabled(family::ALL) {
        return f();
    }
    span_slow(prefix, metadata, f)
}

#[cold]
#[inline(never)]
fn span_slow<R>(
    prefix: &[&'static str],
    metadata: &[(&'static str, Value<'_>)],
    f: impl FnOnce() -> R,
) -> R {
    dispatch(
        NameBuf::new(prefix, "start").as_slice(),
        &[("system_time", Value::Duration(system_time()))],
        metadata,
    );
    let started = Instant::now();
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => {
            dispatch(
                NameBuf::new(prefix, "stop").as_slice(),
                &[("duration", Value::Duration(started.elapsed()))],
                metadata,
            );
            r
        }
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "Box<dyn Any>".to_owned());
            let mut meta = metadata.to_vec();
            meta.push(("kind", Value::Str("panic")));
            meta.push(("reason", Value::Str(&message)));
            dispatch(
                NameBuf::new(prefix, "exception").as_slice(),
                &[("duration", Value::Duration(started.elapsed()))],
                &meta,
            );
            panic::resume_unwind(payload)
        }
    }
}

/// Which callback a [`HandlerSpan`] times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandlerKind {
    /// `handle_call`: emits `call.start`, then `call.stop` or
    /// `call.exception`.
    Call,
    /// `handle_cast`: emits `cast` when it returns.
    Cast,
    /// `handle_info`: emits `info` when it returns.
    Info,
}

/// Times one callback of a behaviour and emits the gen_server events
/// ([`GEN_SERVER_CALL_START`](event::GEN_SERVER_CALL_START) and its
/// `stop` / `exception`, [`GEN_SERVER_CAST`](event::GEN_SERVER_CAST),
/// [`GEN_SERVER_INFO`](event::GEN_SERVER_INFO)).
///
/// Start it before the callback and [`finish`](Self::finish) it after; a
/// span dropped unfinished — the callback panicked — emits the call's
/// `exception`. While no handler is attached to the kind's events,
/// starting costs one relaxed load, and the span is one word that
/// `finish` and `drop` only test.
///
/// ```
/// use rotp_runtime::telemetry::{self, HandlerKind, HandlerSpan};
/// use rotp_runtime::Pid;
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// telemetry::attach("handler-span-doc", telemetry::event::GEN_SERVER_CALL_STOP, move |_, m, meta| {
///     if meta.str("module") == Some("doc::Stack") {
///         log.lock().unwrap().push(m.duration("duration").is_some());
///     }
/// })
/// .unwrap();
/// let request = 42u32;
/// let span = HandlerSpan::start(HandlerKind::Call, || Pid::ROOT, "doc::Stack", &request);
/// // ... handle_call runs here ...
/// span.finish();
/// telemetry::detach("handler-span-doc").unwrap();
/// assert_eq!(*seen.lock().unwrap(), [true]);
/// ```
#[derive(Debug)]
#[must_use = "a span dropped unfinished reports an exception"]
pub struct HandlerSpan {
    started: Option<Box<Started>>,
}

#[derive(Debug)]
struct Started {
    at: Instant,
    kind: HandlerKind,
    server: Pid,
    module: &'static str,
}

impl HandlerSpan {
    /// Starts timing a callback of `server`, whose behaviour runs the type
    /// named `module`; for a call, emits `call.start` with the request
    /// (readable by handlers that know its type, through
    /// [`Value::downcast_ref`]).
    ///
    /// `server` is called only when a handler is attached, so that an
    /// idle site reads nothing but the telemetry word.
    #[inline(always)]
    pub fn start(
        kind: HandlerKind,
        server: impl FnOnce() -> Pid,
        module: &'static str,
        request: &dyn Any,
    ) -> Self {
        let family = match kind {
            HandlerKind::Call => family::CALL,
            HandlerKind::Cast | HandlerKind::Info => family::MESSAGE,
        };
        if !enabled(family) {
            return HandlerSpan { started: None };
        }
        HandlerSpan::start_slow(kind, server(), module, request)
    }

    #[cold]
    #[inline(never)]
    fn start_slow(kind: HandlerKind, server: Pid, module: &'static str, request: &dyn Any) -> Self {
        if kind == HandlerKind::Call {
            dispatch(
                event::GEN_SERVER_CALL_START,
                &[("system_time", Value::Duration(system_time()))],
                &[
                    ("server", Value::Pid(server)),
                    ("module", Value::Str(module)),
                    ("request", Value::Any(request)),
                ],
            );
        }
        HandlerSpan {
            started: Some(Box::new(Started {
                at: Instant::now(),
                kind,
                server,
                module,
            })),
        }
    }

    /// The callback returned: emits `call.stop`, `cast` or `info` with its
    /// duration.
    #[inline(always)]
    pub fn finish(mut self) {
        if let Some(started) = self.started.take() {
            started.finish();
        }
    }
}

impl Started {
    #[cold]
    #[inline(never)]
    fn finish(self) {
        let name = match self.kind {
            HandlerKind::Call => event::GEN_SERVER_CALL_STOP,
            HandlerKind::Cast => event::GEN_SERVER_CAST,
            HandlerKind::Info => event::GEN_SERVER_INFO,
        };
        dispatch(
            name,
            &[("duration", Value::Duration(self.at.elapsed()))],
            &[
                ("server", Value::Pid(self.server)),
                ("module", Value::Str(self.module)),
            ],
        );
    }

    #[cold]
    #[inline(never)]
    fn exception(self) {
        if self.kind != HandlerKind::Call {
            return;
        }
        let reason = crate::panic::current_message();
        dispatch(
            event::GEN_SERVER_CALL_EXCEPTION,
            &[("duration", Value::Duration(self.at.elapsed()))],
            &[
                ("server", Value::Pid(self.server)),
                ("module", Value::Str(self.module)),
                ("kind", Value::Str("panic")),
                ("reason", Value::Str(reason.as_deref().unwrap_or("unknown"))),
            ],
        );
    }
}

impl Drop for HandlerSpan {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(started) = self.started.take() {
            started.exception();
        }
    }
}
