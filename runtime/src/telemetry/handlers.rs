//! The handler table: copy-on-write, read without a lock.
//!
//! ```text
//!  STATE (one AtomicU64):  generation << 8 | family bits
//!      event site ── load(Relaxed) & its family bit ── 0: done (the cost
//!                                                         of an idle site)
//!                                                  └─ set: dispatch
//!  dispatch ── load(Acquire) generation ── this thread's cached table of
//!              that generation? ── yes: look the event up, call handlers
//!                                 └ no: clone the current table's Arc
//!                                      under the lock, cache it
//!  attach / detach ── under the lock: build a new table, swap the Arc in,
//!                     store the new generation and family bits (Release)
//! ```
//!
//! A detached handler is marked before the new table is published, so it
//! is never called after `detach` returns, even from a thread whose cache
//! still holds the old table. Its closure is dropped once no thread's
//! cache refers to the old table any more (each refreshes at its next
//! event).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::value::{Fields, Value};
use super::{AttachError, DetachError, EventName, HandlerInfo};

/// The type of a handler: event name, measurements, metadata.
pub(crate) type HandlerFn =
    dyn Fn(&[&'static str], &Fields<'_>, &Fields<'_>) + Send + Sync + 'static;

/// Families of built-in events, one bit each in [`STATE`], so that
/// attaching to one family leaves the other sites at one load and a
/// branch. Events outside the built-in families share [`family::OTHER`].
pub(crate) mod family {
    pub(crate) const CALL: u64 = 1 << 0;
    pub(crate) const MESSAGE: u64 = 1 << 1;
    pub(crate) const PROCESS: u64 = 1 << 2;
    pub(crate) const SUPERVISOR: u64 = 1 << 3;
    pub(crate) const MAILBOX: u64 = 1 << 4;
    pub(crate) const SCHEDULER: u64 = 1 << 5;
    pub(crate) const OTHER: u64 = 1 << 6;
    pub(crate) const ALL: u64 = (1 << 7) - 1;

    /// The family of an event name.
    pub(crate) fn of(name: &[&str]) -> u64 {
        match name {
            ["rotp", "gen_server", "call", ..] => CALL,
            ["rotp", "gen_server", "cast" | "info", ..] => MESSAGE,
            ["rotp", "process", ..] => PROCESS,
            ["rotp", "supervisor", ..] => SUPERVISOR,
            ["rotp", "mailbox", ..] => MAILBOX,
            ["rotp", "scheduler", ..] => SCHEDULER,
            _ => OTHER,
        }
    }
}

const GENERATION_SHIFT: u32 = 8;

/// The family bits of every attached event, and the table's generation.
pub(crate) static STATE: AtomicU64 = AtomicU64::new(0);

/// Whether any handler is attached to an event of `family`: the whole cost
/// of an event site while none is.
#[inline(always)]
pub(crate) fn enabled(family: u64) -> bool {
    STATE.load(Ordering::Relaxed) & family != 0
}

pub(crate) struct Handler {
    id: Arc<str>,
    f: Box<HandlerFn>,
    detached: AtomicBool,
}

#[derive(Default)]
struct Table {
    by_event: HashMap<Box<[&'static str]>, Vec<Arc<Handler>>>,
    /// Every handler with the events it is attached to, in attach order.
    all: Vec<(Arc<Handler>, Vec<EventName>)>,
}

struct Registry {
    table: Arc<Table>,
    generation: u64,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

thread_local! {
    /// This thread's view of the table, with its generation.
    static CACHE: RefCell<Option<(u64, Arc<Table>)>> = const { RefCell::new(None) };
}

impl Table {
    fn families(&self) -> u64 {
        self.all
            .iter()
            .flat_map(|(_, events)| events.iter())
            .fold(0, |bits, e| bits | family::of(e))
    }

    fn with(&self, handler: Arc<Handler>, events: Vec<EventName>) -> Table {
        let mut all = self.all.clone();
        all.push((handler, events));
        Table::from_all(all)
    }

    fn without(&self, id: &str) -> Option<(Table, Arc<Handler>)> {
        let k = self.all.iter().position(|(h, _)| &*h.id == id)?;
        let mut all = self.all.clone();
        let (gone, _) = all.remove(k);
        Some((Table::from_all(all), gone))
    }

    fn from_all(all: Vec<(Arc<Handler>, Vec<EventName>)>) -> Table {
        let mut by_event: HashMap<Box<[&'static str]>, Vec<Arc<Handler>>> = HashMap::new();
        for (h, events) in &all {
            for e in events {
                let list = by_event.entry((*e).into()).or_default();
                if !list.iter().any(|x| Arc::ptr_eq(x, h)) {
                    list.push(h.clone());
                }
            }
        }
        Table { by_event, all }
    }
}

/// Publishes `table` as the next generation.
fn publish(reg: &mut Registry, table: Table) {
    reg.generation += 1;
    let bits = table.families();
    reg.table = Arc::new(table);
    STATE.store(reg.generation << GENERATION_SHIFT | bits, Ordering::Release);
}

fn registry() -> parking_lot::MappedMutexGuard<'static, Registry> {
    parking_lot::MutexGuard::map(REGISTRY.lock(), |r| {
        r.get_or_insert_with(|| Registry {
            table: Arc::new(Table::default()),
            generation: 0,
        })
    })
}

pub(crate) fn attach(
    id: String,
    events: Vec<EventName>,
    f: Box<HandlerFn>,
) -> Result<(), AttachError> {
    let mut reg = registry();
    if reg.table.all.iter().any(|(h, _)| *h.id == *id) {
        return Err(AttachError::AlreadyExists(id));
    }
    let handler = Arc::new(Handler {
        id: id.into(),
        f,
        detached: AtomicBool::new(false),
    });
    let table = reg.table.with(handler, events);
    publish(&mut reg, table);
    Ok(())
}

pub(crate) fn detach(id: &str) -> Result<(), DetachError> {
    let mut reg = registry();
    let Some((table, gone)) = reg.table.without(id) else {
        return Err(DetachError::NotFound(id.to_owned()));
    };
    gone.detached.store(true, Ordering::Relaxed);
    publish(&mut reg, table);
    Ok(())
}

pub(crate) fn list(prefix: &[&str]) -> Vec<HandlerInfo> {
    let reg = registry();
    reg.table
        .all
        .iter()
        .flat_map(|(h, events)| {
            events
                .iter()
                .filter(|e| e.starts_with(prefix))
                .map(|e| HandlerInfo {
                    id: h.id.to_string(),
                    event: e,
                })
        })
        .collect()
}

/// Calls `f` with this thread's copy of the current table.
fn with_table<R>(f: impl FnOnce(&Table) -> R) -> R {
    let generation = STATE.load(Ordering::Acquire) >> GENERATION_SHIFT;
    let mut f = Some(f);
    let cached = CACHE.try_with(|cache| {
        let f = f.take().expect("called once");
        if let Ok(cached) = cache.try_borrow() {
            if let Some((g, table)) = &*cached {
                if *g == generation {
                    return f(table);
                }
            }
        }
        let (g, table) = {
            let reg = registry();
            (reg.generation, reg.table.clone())
        };
        // A handler emitting an event of its own finds the cache borrowed
        // by the outer dispatch: it uses its fresh copy without caching it.
        if let Ok(mut cached) = cache.try_borrow_mut() {
            *cached = Some((g, table.clone()));
        }
        f(&table)
    });
    match (cached, f) {
        (Ok(r), _) => r,
        // This thread's locals are being torn down: no cache, just the
        // current table.
        (Err(_), Some(f)) => {
            let table = registry().table.clone();
            f(&table)
        }
        (Err(_), None) => unreachable!("the closure runs only when the cache is there"),
    }
}

/// Calls every handler attached to `event`. A handler that panics is
/// detached and reported; the others still run.
#[cold]
#[inline(never)]
pub(crate) fn dispatch(
    event: &[&'static str],
    measurements: &[(&'static str, Value<'_>)],
    metadata: &[(&'static str, Value<'_>)],
) {
    let mut failed: Vec<(Arc<str>, crate::ExitReason)> = Vec::new();
    with_table(|table| {
        let Some(handlers) = table.by_event.get(event) else {
            return;
        };
        let (m, md) = (Fields::new(measurements), Fields::new(metadata));
        for h in handlers {
            if h.detached.load(Ordering::Relaxed) {
                continue;
            }
            if let Err(reason) = crate::panic::catch_nested(|| (h.f)(event, &m, &md)) {
                // Not called again, from this dispatch or any other.
                h.detached.store(true, Ordering::Relaxed);
                failed.push((h.id.clone(), reason));
            }
        }
    });
    for (id, reason) in failed {
        handler_failed(&id, event, &reason);
    }
}

/// Detaches a handler that panicked, reports it, and emits
/// `[telemetry, handler, failure]`.
#[cold]
fn handler_failed(id: &str, event: &[&'static str], reason: &crate::ExitReason) {
    let _ = detach(id);
    let name = event.join(".");
    crate::report::Report::error(
        crate::report::ReportKind::CallbackCrash,
        format_args!("telemetry handler `{id}` failed on event {name} and was detached: {reason}"),
    )
    .field("handler_id", id)
    .field("event", &name)
    .reason(reason)
    .emit();
    if enabled(family::OTHER) {
        dispatch(
            super::event::HANDLER_FAILURE,
            &[],
            &[
                ("handler_id", Value::Str(id)),
                ("event_name", Value::Str(&name)),
                ("reason", Value::Reason(reason)),
            ],
        );
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handler({})", self.id)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn event_names_map_to_their_family() {
        assert_eq!(
            family::of(&["rotp", "gen_server", "call", "stop"]),
            family::CALL
        );
        assert_eq!(family::of(&["rotp", "gen_server", "cast"]), family::MESSAGE);
        assert_eq!(family::of(&["rotp", "process", "exit"]), family::PROCESS);
        assert_eq!(
            family::of(&["rotp", "supervisor", "child", "started"]),
            family::SUPERVISOR
        );
        assert_eq!(family::of(&["my_app", "repo", "query"]), family::OTHER);
    }

    #[test]
    fn a_handler_turns_on_its_family_only_and_detaching_turns_it_off() {
        // The only test in this binary that attaches: the bits are global.
        assert!(!enabled(family::ALL));
        attach(
            "family-bits".into(),
            vec![&["rotp", "supervisor", "max_intensity"]],
            Box::new(|_, _, _| {}),
        )
        .unwrap();
        assert!(enabled(family::SUPERVISOR));
        assert!(!enabled(family::CALL | family::MESSAGE | family::PROCESS));
        detach("family-bits").unwrap();
        assert!(!enabled(family::ALL));
    }
}
