//! What supervisors tell the outside world: telemetry events for child
//! starts, exits, restarts, failed starts and the intensity limit, and the
//! status a supervisor gives introspection tools (strategy, children,
//! restart counts).

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use rotp_runtime::telemetry::{self, event};
use rotp_runtime::testing::Probe;
use rotp_runtime::{ExitReason, Pid};
use rotp_supervisor::{
    DynamicSupervisor, DynamicSupervisorOptions, Strategy, Supervisor, SupervisorOptions,
};

/// Telemetry handlers see every runtime of the program, and pids are only
/// unique within one runtime: the supervisor of one test's runtime may have
/// the pid of another's. The tests of this file therefore run one at a
/// time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// (event, child id, pid, detail) as a handler saw them, for one supervisor.
type Seen = Arc<Mutex<Vec<(String, Option<String>, Option<Pid>, String)>>>;

/// Attaches a handler to every supervisor event, keeping those of the
/// supervisor whose pid `sup` holds once set. Detaches on drop.
struct Watch {
    id: &'static str,
    seen: Seen,
    sup: Arc<Mutex<Option<Pid>>>,
}

impl Watch {
    fn new(id: &'static str) -> Self {
        let seen: Seen = Arc::default();
        let sup: Arc<Mutex<Option<Pid>>> = Arc::default();
        let (s, only) = (seen.clone(), sup.clone());
        telemetry::attach_many(
            id,
            &[
                event::SUPERVISOR_CHILD_STARTED,
                event::SUPERVISOR_CHILD_RESTARTED,
                event::SUPERVISOR_CHILD_TERMINATED,
                event::SUPERVISOR_CHILD_START_FAILED,
                event::SUPERVISOR_MAX_INTENSITY,
            ],
            move |name, m, meta| {
                let from = meta.pid("supervisor");
                let mine = only.lock().unwrap().is_none_or(|p| Some(p) == from);
                if !mine {
                    return;
                }
                let detail = match name.last() {
                    Some(&"restarted") => m.u64("restarts").unwrap().to_string(),
                    Some(&"terminated") => format!(
                        "{}|{}",
                        meta.get("reason").unwrap(),
                        meta.get("shutdown").unwrap()
                    ),
                    Some(&"max_intensity") => m.u64("max_restarts").unwrap().to_string(),
                    _ => String::new(),
                };
                s.lock().unwrap().push((
                    name[2..].join("."),
                    meta.str("id").map(str::to_owned),
                    meta.pid("pid"),
                    detail,
                ));
            },
        )
        .unwrap();
        Watch { id, seen, sup }
    }

    fn only(&self, sup: Pid) {
        *self.sup.lock().unwrap() = Some(sup);
        self.seen.lock().unwrap().retain(|_| false);
    }

    fn events(&self) -> Vec<(String, Option<String>, Option<Pid>, String)> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = telemetry::detach(self.id);
    }
}

#[test]
fn a_crash_and_restart_emit_terminated_then_restarted_with_the_count() {
    let _serial = serial();
    each_virtual_runtime(|rt| {
        let watch = Watch::new("sup-restart");
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(rt, vec![worker("w", &probe)], SupervisorOptions::new())
            .unwrap();
        let first = started(&probe, "w");
        watch.only(sup.pid());
        crash(rt, first);
        let second = started(&probe, "w");
        eventually("the restart is reported", || watch.events().len() >= 2);
        let events = watch.events();
        assert_eq!(events[0].0, "child.terminated");
        assert_eq!(events[0].1.as_deref(), Some("w"));
        assert_eq!(events[0].2, Some(first));
        assert!(events[0].3.ends_with("|false"), "{:?}", events[0]);
        assert_eq!(
            events[1],
            (
                "child.restarted".into(),
                Some("w".into()),
                Some(second),
                "1".into()
            )
        );
    });
}

#[test]
fn the_status_shows_strategy_children_and_restart_counts() {
    let _serial = serial();
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let sup = Supervisor::start_link(
            rt,
            vec![worker("a", &probe), worker("b", &probe)],
            SupervisorOptions::new()
                .strategy(Strategy::RestForOne)
                .name("tree"),
        )
        .unwrap();
        let a = started(&probe, "a");
        started(&probe, "b");
        crash(rt, a);
        started(&probe, "a");
        started(&probe, "b");
        let status = rt.system_status(sup.pid(), TIMEOUT).unwrap();
        assert_eq!(status.behaviour, "supervisor");
        let detail = |k: &str| {
            status
                .details
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(detail("strategy").as_deref(), Some("rest_for_one"));
        assert_eq!(detail("restarts").as_deref(), Some("2"));
        assert_eq!(detail("name").as_deref(), Some("tree"));
        let children: Vec<_> = status
            .children
            .iter()
            .map(|c| (c.id.clone().unwrap(), c.status, c.restarts, c.pid.is_some()))
            .collect();
        assert_eq!(
            children,
            [
                ("a".to_owned(), "running", 1, true),
                ("b".to_owned(), "running", 1, true)
            ]
        );
        let info = rt.process_info(sup.pid()).unwrap();
        assert_eq!(info.behaviour, "supervisor");
    });
}

#[test]
fn failed_starts_and_the_intensity_limit_are_reported() {
    let _serial = serial();
    each_virtual_runtime(|rt| {
        let watch = Watch::new("sup-intensity");
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        let sup = Supervisor::start_link(
            rt,
            vec![controlled("c", &probe, &ctl)],
            SupervisorOptions::new().max_restarts(1).max_seconds(5),
        )
        .unwrap();
        let pid = started(&probe, "c");
        watch.only(sup.pid());
        let watcher = watch_down(rt, sup.pid());
        ctl.fail();
        crash(rt, pid);
        assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
        let names: Vec<String> = watch.events().into_iter().map(|e| e.0).collect();
        assert!(
            names.contains(&"child.start_failed".to_owned()),
            "{names:?}"
        );
        assert_eq!(
            names.last().map(String::as_str),
            Some("max_intensity"),
            "{names:?}"
        );
    });
}

fn watch_down(rt: &rotp_runtime::Runtime, pid: Pid) -> Probe<()> {
    watch(rt, pid)
}

#[test]
fn a_dynamic_supervisor_reports_its_children_without_ids() {
    let _serial = serial();
    each_runtime(|rt| {
        let watch = Watch::new("dyn-started");
        let dynsup = DynamicSupervisor::start_link(rt, DynamicSupervisorOptions::new()).unwrap();
        watch.only(dynsup.pid());
        let probe = Probe::spawn(rt);
        let pid = dynsup.start_child(worker("d", &probe)).unwrap().unwrap();
        let status = rt.system_status(dynsup.pid(), TIMEOUT).unwrap();
        assert_eq!(status.children.len(), 1);
        assert_eq!(status.children[0].pid, Some(pid));
        assert_eq!(status.children[0].id, None);
        assert_eq!(
            watch.events(),
            [("child.started".into(), None, Some(pid), String::new())]
        );
    });
}
