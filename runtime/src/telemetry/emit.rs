//! The runtime's own event sites, out of line: each is called only after
//! its family's bit was found set.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use super::event;
use super::handlers::dispatch;
use super::value::Value;
use crate::exit::ExitReason;
use crate::info::ProcessKind;
use crate::pid::Pid;
use crate::process::pcb::Header;
use crate::registry::Name;

#[cold]
#[inline(never)]
pub(crate) fn process_spawn(pid: Pid, parent: Pid, kind: ProcessKind) {
    dispatch(
        event::PROCESS_SPAWN,
        &[],
        &[
            ("pid", Value::Pid(pid)),
            ("parent", Value::Pid(parent)),
            ("behaviour", Value::Str(kind.behaviour)),
            ("type", Value::Str(kind.type_name)),
        ],
    );
}

#[cold]
#[inline(never)]
pub(crate) fn process_exit(
    header: &Header,
    kind: ProcessKind,
    reason: &ExitReason,
    name: Option<&Name>,
) {
    let mut metadata = [
        ("pid", Value::Pid(header.pid)),
        ("reason", Value::Reason(reason)),
        ("behaviour", Value::Str(kind.behaviour)),
        ("type", Value::Str(kind.type_name)),
        ("name", Value::Str("")),
    ];
    let len = match name {
        Some(name) => {
            metadata[4].1 = Value::Str(name.as_str());
            5
        }
        None => 4,
    };
    dispatch(
        event::PROCESS_EXIT,
        &[
            ("reductions", Value::U64(header.reductions.load(Relaxed))),
            ("handled", Value::U64(header.handled.load(Relaxed))),
        ],
        &metadata[..len],
    );
}

#[cold]
#[inline(never)]
pub(crate) fn long_schedule(pid: Pid, worker: usize, duration: Duration) {
    dispatch(
        event::SCHEDULER_LONG_SCHEDULE,
        &[("duration", Value::Duration(duration))],
        &[
            ("pid", Value::Pid(pid)),
            ("worker", Value::U64(worker as u64)),
        ],
    );
}

#[cold]
#[inline(never)]
pub(crate) fn utilisation(worker: usize, busy: Duration, interval: Duration, handled: u64) {
    let ratio = if interval.is_zero() {
        0.0
    } else {
        (busy.as_secs_f64() / interval.as_secs_f64()).clamp(0.0, 1.0)
    };
    dispatch(
        event::SCHEDULER_UTILISATION,
        &[
            ("utilisation", Value::F64(ratio)),
            ("busy", Value::Duration(busy)),
            ("interval", Value::Duration(interval)),
            ("handled", Value::U64(handled)),
        ],
        &[("worker", Value::U64(worker as u64))],
    );
}

/// A mailbox crossed its high-water mark upwards (`crossed`) or drained
/// below it again.
#[cold]
#[inline(never)]
#[allow(dead_code)] // wired by the mailbox's high-water mark
pub(crate) fn mailbox_high_water(pid: Pid, length: usize, high_water: usize, crossed: bool) {
    let name = if crossed {
        event::MAILBOX_HIGH_WATER_CROSSED
    } else {
        event::MAILBOX_HIGH_WATER_CLEARED
    };
    dispatch(
        name,
        &[("length", Value::U64(length as u64))],
        &[
            ("pid", Value::Pid(pid)),
            ("high_water", Value::U64(high_water as u64)),
        ],
    );
}
