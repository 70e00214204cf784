//! Telemetry: attaching, emitting, spans, failing handlers, and the
//! runtime's own events (process spawn and exit, long schedules, worker
//! utilisation), plus system requests.
//!
//! Handlers are global and tests run in parallel: every test attaches
//! under its own id, to its own event names, or filters the runtime's
//! events by the pids it made.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{each_runtime, each_runtime_with, TIMEOUT};
use rotp_runtime::telemetry::{self, event, AttachError, DetachError, HandlerKind, HandlerSpan};
use rotp_runtime::testing::{wait_until, Gate};
use rotp_runtime::{ExitReason, Pid, SystemError, SystemRequest};

/// Telemetry handlers see every runtime of the program, and pids are only
/// unique within one runtime: a process of another test's runtime may have
/// the pid a test filters on. The tests of this file therefore run one at
/// a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Records the events a handler saw, as (name, pid, text) triples.
type Seen = Arc<Mutex<Vec<(String, Option<Pid>, String)>>>;

fn seen() -> Seen {
    Arc::new(Mutex::new(Vec::new()))
}

/// Detaches on drop, so that a failing test leaves no handler behind.
struct Attached(&'static str);

impl Drop for Attached {
    fn drop(&mut self) {
        let _ = telemetry::detach(self.0);
    }
}

#[test]
fn execute_reaches_the_attached_handler_until_it_is_detached() {
    let _serial = serial();
    const EV: telemetry::EventName = &["test", "execute", "basic"];
    let total = Arc::new(AtomicU64::new(0));
    let t = total.clone();
    telemetry::attach("execute-basic", EV, move |name, m, meta| {
        assert_eq!(name, EV);
        assert_eq!(meta.str("table"), Some("users"));
        t.fetch_add(m.u64("rows").unwrap(), Ordering::Relaxed);
    })
    .unwrap();
    let _guard = Attached("execute-basic");
    telemetry::execute(EV, &[("rows", 2u64.into())], &[("table", "users".into())]);
    telemetry::execute(EV, &[("rows", 3u64.into())], &[("table", "users".into())]);
    // Another event name reaches nobody here.
    telemetry::execute(
        &["test", "execute", "other"],
        &[("rows", 100u64.into())],
        &[],
    );
    assert_eq!(total.load(Ordering::Relaxed), 5);
    telemetry::detach("execute-basic").unwrap();
    telemetry::execute(EV, &[("rows", 7u64.into())], &[("table", "users".into())]);
    assert_eq!(total.load(Ordering::Relaxed), 5);
}

#[test]
fn ids_are_unique_and_detaching_twice_fails() {
    let _serial = serial();
    const EV: telemetry::EventName = &["test", "ids"];
    telemetry::attach("ids-unique", EV, |_, _, _| {}).unwrap();
    let _guard = Attached("ids-unique");
    assert_eq!(
        telemetry::attach("ids-unique", EV, |_, _, _| {}),
        Err(AttachError::AlreadyExists("ids-unique".into()))
    );
    assert!(telemetry::list_handlers(&["test", "ids"])
        .iter()
        .any(|h| h.id == "ids-unique" && h.event == EV));
    telemetry::detach("ids-unique").unwrap();
    assert_eq!(
        telemetry::detach("ids-unique"),
        Err(DetachError::NotFound("ids-unique".into()))
    );
    assert!(telemetry::list_handlers(&["test", "ids"]).is_empty());
}

#[test]
fn attach_many_gets_every_event_it_names() {
    let _serial = serial();
    const A: telemetry::EventName = &["test", "many", "a"];
    const B: telemetry::EventName = &["test", "many", "b"];
    let log = seen();
    let l = log.clone();
    telemetry::attach_many("many", &[A, B], move |name, _, _| {
        l.lock()
            .unwrap()
            .push((name.join("."), None, String::new()));
    })
    .unwrap();
    let _guard = Attached("many");
    telemetry::execute(A, &[], &[]);
    telemetry::execute(B, &[], &[]);
    telemetry::execute(A, &[], &[]);
    let names: Vec<String> = log.lock().unwrap().iter().map(|e| e.0.clone()).collect();
    assert_eq!(names, ["test.many.a", "test.many.b", "test.many.a"]);
}

#[test]
fn a_panicking_handler_is_detached_and_reported_and_the_emitter_carries_on() {
    let _serial = serial();
    const EV: telemetry::EventName = &["test", "failing"];
    let good = Arc::new(AtomicU64::new(0));
    let g = good.clone();
    telemetry::attach("failing-bad", EV, |_, _, _| panic!("handler bug")).unwrap();
    telemetry::attach("failing-good", EV, move |_, _, _| {
        g.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    let _guards = (Attached("failing-bad"), Attached("failing-good"));
    let failures = seen();
    let f = failures.clone();
    telemetry::attach(
        "failing-watch",
        event::HANDLER_FAILURE,
        move |_, _, meta| {
            if meta.str("handler_id") == Some("failing-bad") {
                let reason = meta
                    .get("reason")
                    .map(|r| r.to_string())
                    .unwrap_or_default();
                f.lock().unwrap().push((
                    meta.str("event_name").unwrap_or_default().to_owned(),
                    None,
                    reason,
                ));
            }
        },
    )
    .unwrap();
    let _watch = Attached("failing-watch");

    telemetry::execute(EV, &[], &[]); // the emitter is not hurt
    telemetry::execute(EV, &[], &[]);
    assert_eq!(
        good.load(Ordering::Relaxed),
        2,
        "the other handler still runs"
    );
    assert!(
        !telemetry::list_handlers(EV)
            .iter()
            .any(|h| h.id == "failing-bad"),
        "the failing handler is detached"
    );
    let failures = failures.lock().unwrap();
    assert_eq!(failures.len(), 1, "reported once: {failures:?}");
    assert_eq!(failures[0].0, "test.failing");
    assert!(failures[0].2.contains("handler bug"), "{:?}", failures[0]);
}

#[test]
fn span_emits_start_and_stop_with_the_metadata() {
    let _serial = serial();
    const PREFIX: &[&str] = &["test", "span", "ok"];
    let log = seen();
    let l = log.clone();
    telemetry::attach_many(
        "span-ok",
        &[
            &["test", "span", "ok", "start"],
            &["test", "span", "ok", "stop"],
        ],
        move |name, m, meta| {
            let measure = if name.last() == Some(&"stop") {
                format!("{}", m.duration("duration").is_some())
            } else {
                format!("{}", m.duration("system_time").is_some())
            };
            l.lock().unwrap().push((
                format!("{}:{}", name.join("."), meta.str("query").unwrap()),
                None,
                measure,
            ));
        },
    )
    .unwrap();
    let _guard = Attached("span-ok");
    let out = telemetry::span(PREFIX, &[("query", "select 1".into())], || 41 + 1);
    assert_eq!(out, 42);
    let log = log.lock().unwrap();
    assert_eq!(
        *log,
        [
            (
                "test.span.ok.start:select 1".to_owned(),
                None,
                "true".to_owned()
            ),
            (
                "test.span.ok.stop:select 1".to_owned(),
                None,
                "true".to_owned()
            )
        ]
    );
}

#[test]
fn span_emits_exception_and_lets_the_panic_go_on() {
    let _serial = serial();
    let log = seen();
    let l = log.clone();
    telemetry::attach(
        "span-exc",
        &["test", "span", "boom", "exception"],
        move |_, m, meta| {
            l.lock().unwrap().push((
                meta.str("kind").unwrap().to_owned(),
                None,
                format!(
                    "{}|{}",
                    meta.str("reason").unwrap(),
                    m.duration("duration").is_some()
                ),
            ));
        },
    )
    .unwrap();
    let _guard = Attached("span-exc");
    let result = std::panic::catch_unwind(|| {
        telemetry::span(&["test", "span", "boom"], &[], || -> u8 {
            panic!("db down")
        })
    });
    assert!(result.is_err(), "the panic goes on");
    assert_eq!(
        *log.lock().unwrap(),
        [("panic".to_owned(), None, "db down|true".to_owned())]
    );
}

#[test]
fn process_spawn_and_exit_events_name_the_process_and_its_reason() {
    let _serial = serial();
    each_runtime(|rt| {
        let log = seen();
        let l = log.clone();
        let id = "process-events";
        telemetry::attach_many(
            id,
            &[event::PROCESS_SPAWN, event::PROCESS_EXIT],
            move |name, m, meta| {
                let text = match meta.get("reason") {
                    Some(r) => format!("{r}|{}", m.u64("handled").unwrap()),
                    None => meta.str("behaviour").unwrap().to_owned(),
                };
                l.lock()
                    .unwrap()
                    .push((name.join("."), meta.pid("pid"), text));
            },
        )
        .unwrap();
        let _guard = Attached(id);
        let p = rt.spawn_fn(|n: u32, ctx| {
            if n == 2 {
                ctx.exit(ExitReason::custom("done"));
            }
        });
        p.send(1);
        p.send(2);
        assert_eq!(
            p.await_exit(Some(TIMEOUT)),
            Some(ExitReason::custom("done"))
        );
        let mine: Vec<_> = log
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.1 == Some(p.pid()))
            .cloned()
            .collect();
        assert_eq!(
            mine,
            [
                (
                    "rotp.process.spawn".to_owned(),
                    Some(p.pid()),
                    "process".to_owned()
                ),
                (
                    "rotp.process.exit".to_owned(),
                    Some(p.pid()),
                    "done|2".to_owned()
                )
            ]
        );
    });
}

#[test]
fn a_call_span_that_unwinds_reports_the_panic_and_keeps_the_exit_reason() {
    let _serial = serial();
    each_runtime(|rt| {
        let log = seen();
        let l = log.clone();
        let id = "call-exception";
        telemetry::attach(id, event::GEN_SERVER_CALL_EXCEPTION, move |_, _, meta| {
            if meta.str("module") == Some("test::Unwinding") {
                l.lock().unwrap().push((
                    meta.str("kind").unwrap().to_owned(),
                    meta.pid("server"),
                    meta.str("reason").unwrap().to_owned(),
                ));
                // A handler failing while the server's panic unwinds must
                // not take the server's exit reason with it.
                panic!("handler fails too");
            }
        })
        .unwrap();
        let _guard = Attached(id);
        static LINE: AtomicU64 = AtomicU64::new(0);
        let p = rt.spawn_fn(|(): (), ctx| {
            let _span = HandlerSpan::start(HandlerKind::Call, || ctx.pid(), "test::Unwinding", &());
            LINE.store(u64::from(line!()) + 1, Ordering::Relaxed);
            panic!("bad request");
        });
        p.send(());
        let reason = p.await_exit(Some(TIMEOUT)).unwrap();
        let ExitReason::Panic(panic) = &reason else {
            panic!("a panic reason, got {reason}");
        };
        assert_eq!(panic.message, "bad request");
        assert!(
            panic.location.as_deref().is_some_and(
                |l| l.contains(&format!("telemetry.rs:{}:", LINE.load(Ordering::Relaxed)))
            ),
            "the server's own panic location: {reason}"
        );
        assert_eq!(
            *log.lock().unwrap(),
            [("panic".to_owned(), Some(p.pid()), "bad request".to_owned())]
        );
        // The failed handler was detached: nothing else to drop.
        std::mem::forget(_guard);
        assert!(telemetry::detach(id).is_err());
    });
}

#[test]
fn the_watchdog_emits_long_schedule_with_the_process() {
    let _serial = serial();
    each_runtime_with(
        |b| b.watchdog_threshold(Some(Duration::from_millis(5))),
        |rt| {
            let log = seen();
            let l = log.clone();
            let id = "long-schedule";
            telemetry::attach(id, event::SCHEDULER_LONG_SCHEDULE, move |_, m, meta| {
                let long = m.duration("duration").unwrap() >= Duration::from_millis(5);
                l.lock()
                    .unwrap()
                    .push((String::new(), meta.pid("pid"), long.to_string()));
            })
            .unwrap();
            let _guard = Attached(id);
            let gate = Gate::new();
            let opener = gate.opener();
            let g = gate.clone();
            let p = rt.spawn_fn(move |(): (), _ctx| g.spin());
            p.send(());
            let pid = p.pid();
            assert!(
                wait_until(TIMEOUT, || log
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|e| e.1 == Some(pid))),
                "a long_schedule event names the stuck process"
            );
            drop(opener);
            let log = log.lock().unwrap();
            assert!(log
                .iter()
                .filter(|e| e.1 == Some(pid))
                .all(|e| e.2 == "true"));
        },
    );
}

#[test]
fn every_worker_reports_its_utilisation() {
    let _serial = serial();
    let rt = rotp_runtime::Runtime::builder().workers(2).build().unwrap();
    let workers = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let w = workers.clone();
    let id = "utilisation";
    telemetry::attach(id, event::SCHEDULER_UTILISATION, move |_, m, meta| {
        let u = m.f64("utilisation").unwrap();
        assert!((0.0..=1.0).contains(&u), "utilisation {u}");
        assert!(m.duration("busy").unwrap() <= m.duration("interval").unwrap());
        w.lock().unwrap().insert(meta.u64("worker").unwrap());
    })
    .unwrap();
    let _guard = Attached(id);
    // Another runtime's workers report too; at least this one's indexes
    // 0 and 1 show up within a few intervals.
    assert!(
        wait_until(TIMEOUT, || workers.lock().unwrap().len() >= 2),
        "workers seen: {:?}",
        workers.lock().unwrap()
    );
    rt.shutdown(TIMEOUT).unwrap();
}

#[test]
fn a_raw_process_answers_status_but_not_suspend() {
    let _serial = serial();
    each_runtime(|rt| {
        let p = rt.spawn_fn(|_: (), _ctx| {});
        let status = rt.system_status(p.pid(), TIMEOUT).unwrap();
        assert_eq!(status.behaviour, "process");
        assert!(status.children.is_empty());
        assert_eq!(rt.suspend(p.pid(), TIMEOUT), Err(SystemError::NotSupported));
        rt.kill(p.pid());
        p.await_exit(Some(TIMEOUT)).unwrap();
        assert_eq!(
            rt.system_status(p.pid(), TIMEOUT).unwrap_err(),
            SystemError::NoProc
        );
    });
}

#[test]
fn a_process_cannot_ask_itself() {
    let _serial = serial();
    each_runtime(|rt| {
        let (tx, rx) = std::sync::mpsc::channel();
        let p = rt.spawn_fn(move |_: (), ctx| {
            let h = ctx.handle();
            tx.send(h.system_request(ctx.pid(), SystemRequest::Status).err())
                .unwrap();
        });
        p.send(());
        assert_eq!(
            rx.recv_timeout(TIMEOUT).unwrap(),
            Some(SystemError::CallingSelf)
        );
    });
}

#[test]
fn a_status_request_waits_behind_queued_messages_and_exiting_answers_no_proc() {
    let _serial = serial();
    each_runtime(|rt| {
        let gate = Gate::new();
        let opener = gate.opener();
        let g = gate.clone();
        let p = rt.spawn_fn(move |stop: bool, ctx| {
            g.wait_blocking();
            if stop {
                ctx.exit(ExitReason::Normal);
            }
        });
        p.send(true);
        let pending = rt.system_request(p.pid(), SystemRequest::Status).unwrap();
        assert!(pending.try_recv().is_none(), "busy: no answer yet");
        drop(opener);
        // The process exits on the message before the request: the request
        // is dropped with its mailbox.
        assert_eq!(pending.wait(TIMEOUT).unwrap_err(), SystemError::NoProc);
    });
}

#[test]
fn process_info_names_the_kind_and_counts_memory() {
    let _serial = serial();
    each_runtime(|rt| {
        let p = rt.spawn_fn(|_: u32, _ctx| {});
        let info = rt.process_info(p.pid()).unwrap();
        assert_eq!(info.behaviour, "process");
        assert!(info.type_name.contains("telemetry"), "{}", info.type_name);
        assert!(
            info.memory >= 64,
            "at least the control block: {}",
            info.memory
        );
    });
}

/// A mailbox reaching its high-water mark emits `crossed` with the process
/// and the length, once; draining below half the mark emits `cleared`.
#[test]
fn mailbox_high_water_crossings_are_events() {
    let _serial = serial();
    each_runtime(|rt| {
        let log = seen();
        let l = log.clone();
        let id = "mailbox-marks";
        telemetry::attach_many(
            id,
            &[
                event::MAILBOX_HIGH_WATER_CROSSED,
                event::MAILBOX_HIGH_WATER_CLEARED,
            ],
            move |name, m, meta| {
                let text = format!(
                    "{}/{}",
                    m.u64("length").unwrap(),
                    meta.u64("high_water").unwrap()
                );
                l.lock()
                    .unwrap()
                    .push((name.join("."), meta.pid("pid"), text));
            },
        )
        .unwrap();
        let _guard = Attached(id);
        let gate = Gate::new();
        let opener = gate.opener();
        let g = gate.clone();
        let opts = rotp_runtime::SpawnOptions::new().mailbox_high_water(4);
        let (p, _) = rt.spawn_opts(
            rotp_runtime::FnProcess::new(
                move |hold: bool, _ctx: &mut rotp_runtime::Context<'_, bool>| {
                    if hold {
                        g.wait_blocking();
                    }
                },
            ),
            &opts,
        );
        p.send(true);
        let mine = |log: &Seen| -> Vec<(String, Option<Pid>, String)> {
            let all = log.lock().unwrap();
            all.iter()
                .filter(|e| e.1 == Some(p.pid()))
                .cloned()
                .collect()
        };
        // The held message is in the handler, not the mailbox: four more
        // reach the mark.
        assert!(wait_until(TIMEOUT, || rt
            .process_info(p.pid())
            .unwrap()
            .mailbox_len
            == 0));
        for _ in 0..3 {
            p.send(false);
        }
        assert!(mine(&log).is_empty());
        for _ in 0..3 {
            p.send(false);
        }
        assert_eq!(
            mine(&log),
            [(
                "rotp.mailbox.high_water.crossed".to_owned(),
                Some(p.pid()),
                "4/4".to_owned()
            )]
        );
        drop(opener);
        assert!(wait_until(TIMEOUT, || mine(&log).len() == 2));
        let cleared = &mine(&log)[1];
        assert_eq!(cleared.0, "rotp.mailbox.high_water.cleared");
        let len: u64 = cleared.2.split('/').next().unwrap().parse().unwrap();
        assert!(len < 2, "{cleared:?}");
    });
}
