//! Supervisor reports (adaptation R14): structured `log` records with the
//! supervisor, the child, the reason and the restart count; one line each
//! on stderr when no logger is set (scenarios that need no logger run in a
//! child process of this test binary, `run_child_test`).

mod common;

use common::*;
use rotp_runtime::testing::{is_child_test, run_child_test, Probe};
use rotp_runtime::testing::{Captured, LogCapture};
use rotp_runtime::{ExitReason, Pid};
use rotp_supervisor::{Supervisor, SupervisorOptions, SupervisorStartError};

/// Under a supervisor named `name` (3 restarts in 5 s) whose child `w`
/// exits normal once, then crashes three times: the third crash is one
/// restart too many. Returns the supervisor's pid and the child's pids.
fn exhaust(rt: &rotp_runtime::Runtime, name: &str) -> (Pid, Vec<Pid>) {
    let probe = Probe::spawn(rt);
    let sup = Supervisor::start_link(
        rt,
        vec![worker("w", &probe)],
        SupervisorOptions::new().name(name),
    )
    .unwrap();
    let watcher = watch(rt, sup.pid());
    let mut pids = vec![started(&probe, "w")];
    exit_child(rt, pids[0], ExitReason::Normal);
    pids.push(started(&probe, "w"));
    for _ in 0..2 {
        crash(rt, *pids.last().unwrap());
        pids.push(started(&probe, "w"));
    }
    crash(rt, *pids.last().unwrap());
    assert_eq!(down_reason(&watcher), ExitReason::Shutdown);
    (sup.pid(), pids)
}

/// Every report names the supervisor (`pid`, `name`); `child_terminated`
/// names the child (`child_id`, `child_pid`), the reason, and the restarts
/// already in the intensity window; the give-up names the count against
/// the allowed one and the window.
#[test]
fn r14_supervisor_reports_are_structured_records() {
    let logs = LogCapture::install(log::LevelFilter::Info);
    each_virtual_runtime(|rt| {
        let name = format!("reports-{}", rt.workers());
        let (sup, pids) = exhaust(rt, &name);
        let sup = sup.to_string();
        let of = |kind: &'static str| {
            let (name, sup) = (name.clone(), sup.clone());
            move |r: &Captured| {
                r.kv("kind") == Some(kind)
                    && r.kv("name") == Some(name.as_str())
                    && r.kv("pid") == Some(sup.as_str())
            }
        };
        eventually("the give-up is reported", || {
            !logs.records(of("reached_max_restart_intensity")).is_empty()
        });
        let terminated = logs.records(of("child_terminated"));
        assert_eq!(terminated.len(), 4, "{terminated:?}");
        for (k, (r, pid)) in terminated.iter().zip(&pids).enumerate() {
            assert_eq!(r.kv("child_id"), Some("w"));
            assert_eq!(r.kv("child_pid"), Some(pid.to_string().as_str()));
            assert_eq!(r.kv("restarts"), Some(k.to_string().as_str()), "{r:?}");
            let (level, reason) = match k {
                0 => (log::Level::Info, "normal"),
                _ => (log::Level::Error, "crash"),
            };
            assert_eq!(r.level, level, "{r:?}");
            assert_eq!(r.kv("reason"), Some(reason));
            assert!(
                r.line
                    .starts_with(&format!("supervisor {name} ({sup}): child_terminated: ")),
                "{r:?}"
            );
        }
        let gave_up = &logs.records(of("reached_max_restart_intensity"))[0];
        assert_eq!(gave_up.level, log::Level::Error);
        assert_eq!(gave_up.kv("child_id"), Some("w"));
        assert_eq!(gave_up.kv("restarts"), Some("4"));
        assert_eq!(gave_up.kv("max_restarts"), Some("3"));
        assert_eq!(gave_up.kv("period_ms"), Some("5000"));
        assert_eq!(gave_up.kv("reason"), Some("shutdown"));
    });
}

/// A failing start function is a `start_error` naming the child and the
/// failure.
#[test]
fn r14_a_start_error_names_the_child_and_the_failure() {
    let logs = LogCapture::install(log::LevelFilter::Info);
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ctl = StartControl::new();
        ctl.fail();
        let name = format!("start-error-{}", rt.workers());
        let r = Supervisor::start_link(
            rt,
            vec![controlled("c", &probe, &ctl)],
            SupervisorOptions::new().name(name.as_str()),
        );
        assert!(matches!(
            r,
            Err(SupervisorStartError::FailedToStartChild { .. })
        ));
        let reports =
            logs.records(|r| r.kv("kind") == Some("start_error") && r.kv("name") == Some(&name));
        assert_eq!(reports.len(), 1, "{reports:?}");
        assert_eq!(reports[0].kv("child_id"), Some("c"));
        assert!(reports[0]
            .kv("reason")
            .is_some_and(|r| r.contains("start failed")));
        assert_eq!(reports[0].level, log::Level::Error);
    });
}

/// No logger: the errors are lines on stderr — three `child_terminated`
/// and the give-up per supervisor — and the info report of the normal
/// exit is not printed.
#[test]
fn r14_without_a_logger_supervisor_errors_are_lines_on_stderr() {
    if is_child_test() {
        for workers in WORKER_COUNTS {
            let rt = rotp_runtime::Runtime::builder()
                .workers(workers)
                .virtual_clock()
                .watchdog_threshold(None)
                .build()
                .unwrap();
            let name = format!("stderr-{workers}");
            let (sup, _) = exhaust(&rt, &name);
            println!("supervisor {name} {sup}");
            rt.shutdown(TIMEOUT).unwrap();
        }
        return;
    }
    let (stdout, stderr) =
        run_child_test("r14_without_a_logger_supervisor_errors_are_lines_on_stderr");
    let sups: Vec<(String, String)> = stdout
        .lines()
        .filter_map(|l| l.split_once("supervisor ").map(|(_, rest)| rest))
        .map(|l| {
            let (name, pid) = l.split_once(' ').unwrap();
            (name.to_owned(), pid.to_owned())
        })
        .collect();
    assert_eq!(sups.len(), WORKER_COUNTS.len(), "{stdout}");
    assert_eq!(stderr.lines().count(), 4 * sups.len(), "{stderr}");
    for (name, pid) in &sups {
        let prefix = format!("[error] supervisor {name} ({pid}): ");
        let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&prefix)).collect();
        assert_eq!(lines.len(), 4, "{stderr}");
        assert!(lines[..3]
            .iter()
            .all(|l| l.contains("child_terminated: child `w` ") && l.ends_with("exited: crash")));
        assert!(
            lines[3].contains("reached_max_restart_intensity: "),
            "{}",
            lines[3]
        );
    }
    assert!(!stderr.contains("normal"), "{stderr}");
}
