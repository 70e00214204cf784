//! Where reports go (`rotp_runtime::Report`): a crash is never silent.
//!
//! With no `log` logger set, a crash report is one line on stderr; with a
//! logger, it is a structured record and stderr stays quiet. A logger is
//! global to a program, so each scenario runs in a child process of this
//! test binary (`run_child_test`), whose stderr the test reads.

mod common;

use common::*;
use rotp_runtime::testing::LogCapture;
use rotp_runtime::testing::{is_child_test, run_child_test};
use rotp_runtime::{report_route, set_report_route, ExitReason, ReportRoute, Runtime};

/// A runtime without the watchdog: on a loaded machine a handler may seem
/// long and add a `long_schedule` line to the stderr these tests count.
fn quiet_runtime(workers: usize) -> Runtime {
    Runtime::builder()
        .workers(workers)
        .watchdog_threshold(None)
        .build()
        .unwrap()
}

/// Crashes, in a runtime of each size, a process that nothing links to or
/// monitors; prints `crashed <pid> <name>` on stdout for each.
fn crash_unobserved_processes() {
    for workers in WORKER_COUNTS {
        let rt = quiet_runtime(workers);
        let name = format!("crashy-{workers}");
        let p = rt.spawn_fn(move |msg: &'static str, _ctx| panic!("{msg}"));
        rt.register(name.as_str(), p.pid()).unwrap();
        println!("crashed {} {name}", p.pid());
        p.send("boom");
        assert!(
            rt.await_exit(&p, Some(TIMEOUT)).is_some(),
            "the process exits"
        );
        rt.shutdown(TIMEOUT).unwrap();
    }
}

/// The pids and names the child printed.
fn crashed(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        // The harness prints `test ... ` on the same line as the first.
        .filter_map(|l| l.split_once("crashed ").map(|(_, rest)| rest))
        .map(|l| {
            let (pid, name) = l.split_once(' ').unwrap();
            (pid.to_owned(), name.to_owned())
        })
        .collect()
}

/// No logger: each crash is one `[error]` line on stderr naming the pid,
/// the registered name and the reason, and nothing else is printed (the
/// panic hook keeps the default "thread panicked" message off stderr).
#[test]
fn without_a_logger_a_crash_is_one_line_on_stderr() {
    if is_child_test() {
        return crash_unobserved_processes();
    }
    let (stdout, stderr) = run_child_test("without_a_logger_a_crash_is_one_line_on_stderr");
    let crashed = crashed(&stdout);
    assert_eq!(crashed.len(), WORKER_COUNTS.len(), "{stdout}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), crashed.len(), "one line per crash:\n{stderr}");
    for ((pid, name), line) in crashed.iter().zip(&lines) {
        assert!(line.starts_with("[error] crash report: process "), "{line}");
        assert!(line.contains(&format!("{pid} ({name})")), "{line}");
        assert!(line.contains("boom"), "{line}");
    }
}

/// With a logger: the crash is an error record whose key-values name the
/// process, its type and the reason; nothing reaches stderr.
#[test]
fn with_a_logger_a_crash_is_a_structured_record_and_stderr_stays_quiet() {
    if is_child_test() {
        let logs = LogCapture::install(log::LevelFilter::Warn);
        crash_unobserved_processes();
        let records = logs.records(|r| r.kv("kind") == Some("crash_report"));
        assert_eq!(records.len(), WORKER_COUNTS.len(), "{records:?}");
        for r in &records {
            assert_eq!(r.level, log::Level::Error);
            assert_eq!(r.target, "rotp_runtime");
            let pid = r.kv("pid").expect("a pid");
            assert!(r.line.contains(pid), "{r:?}");
            assert!(r.kv("name").is_some_and(|n| n.starts_with("crashy-")));
            assert!(r.kv("reason").is_some_and(|n| n.contains("boom")));
            assert!(r.kv("type").is_some_and(|t| t.contains("FnProcess")));
            assert!(!r.line.contains('\n'));
        }
        return;
    }
    let (stdout, stderr) =
        run_child_test("with_a_logger_a_crash_is_a_structured_record_and_stderr_stays_quiet");
    assert_eq!(crashed(&stdout).len(), WORKER_COUNTS.len());
    assert_eq!(stderr, "", "stderr stays quiet with a logger");
}

/// A panic message over several lines still makes one line (`\n`
/// written out).
#[test]
fn a_multi_line_reason_stays_on_one_line() {
    if is_child_test() {
        let rt = quiet_runtime(1);
        let p = rt.spawn_fn(|_: (), _ctx| panic!("first line\nsecond line"));
        p.send(());
        assert!(rt.await_exit(&p, Some(TIMEOUT)).is_some());
        rt.shutdown(TIMEOUT).unwrap();
        return;
    }
    let (_, stderr) = run_child_test("a_multi_line_reason_stays_on_one_line");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("first line\\nsecond line"), "{stderr}");
}

/// `set_report_route(Off)` silences the reports; `Stderr` writes them
/// there even with a logger set.
#[test]
fn the_route_can_silence_or_force_stderr() {
    if is_child_test() {
        set_report_route(ReportRoute::Off);
        assert_eq!(report_route(), ReportRoute::Off);
        let rt = quiet_runtime(1);
        let p = rt.spawn_fn(|_: (), _ctx| panic!("silenced"));
        p.send(());
        assert!(rt.await_exit(&p, Some(TIMEOUT)).is_some());
        let logs = LogCapture::install(log::LevelFilter::Warn);
        set_report_route(ReportRoute::Stderr);
        let p = rt.spawn_fn(|_: (), _ctx| panic!("forced"));
        p.send(());
        assert!(rt.await_exit(&p, Some(TIMEOUT)).is_some());
        assert!(logs.records(|_| true).is_empty(), "nothing went to log");
        rt.shutdown(TIMEOUT).unwrap();
        return;
    }
    let (_, stderr) = run_child_test("the_route_can_silence_or_force_stderr");
    assert!(!stderr.contains("silenced"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("forced"), "{stderr}");
}

/// A crash that a link or monitor observes is not reported by the runtime
/// (the observer decides: a supervisor reports it), and neither is a
/// normal exit.
#[test]
fn observed_crashes_and_normal_exits_are_not_reported() {
    if is_child_test() {
        for workers in WORKER_COUNTS {
            let rt = quiet_runtime(workers);
            let probe = rotp_runtime::testing::Probe::<()>::spawn(&rt);
            let p = rt.spawn_fn(|_: (), _ctx| panic!("observed"));
            probe.monitor(p.pid());
            p.send(());
            assert!(rt.await_exit(&p, Some(TIMEOUT)).is_some());
            let q = rt.spawn_fn(|_: (), ctx| ctx.exit(ExitReason::Normal));
            q.send(());
            assert!(rt.await_exit(&q, Some(TIMEOUT)).is_some());
            rt.shutdown(TIMEOUT).unwrap();
        }
        return;
    }
    let (_, stderr) = run_child_test("observed_crashes_and_normal_exits_are_not_reported");
    assert_eq!(stderr, "");
}

/// Spare threads and the other conditions of the runtime itself go the
/// same way: the watchdog's `long_schedule` warning reaches stderr with no
/// logger.
#[test]
fn a_long_schedule_warning_reaches_stderr_without_a_logger() {
    if is_child_test() {
        let rt = Runtime::builder()
            .workers(1)
            .watchdog_threshold(Some(std::time::Duration::from_millis(5)))
            .build()
            .unwrap();
        let gate = Gate::new();
        let _open = gate.opener();
        let p = puppet(&rt);
        hold_spinning(&p, &gate);
        assert!(rotp_runtime::testing::wait_until(TIMEOUT, || rt
            .stats()
            .long_schedules
            > 0));
        println!("stuck {}", p.pid());
        gate.open();
        assert_answers(&p);
        rt.shutdown(TIMEOUT).unwrap();
        return;
    }
    let (stdout, stderr) =
        run_child_test("a_long_schedule_warning_reaches_stderr_without_a_logger");
    let pid = stdout
        .lines()
        .find_map(|l| l.split_once("stuck ").map(|(_, rest)| rest))
        .expect("the child names the stuck process");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("[warning] long_schedule: process ") && l.contains(pid)),
        "{stderr}"
    );
}

/// A panic in user code called back outside a handler — an exit hook, a
/// telemetry handler — is a `callback_crash` report: on stderr without a
/// logger, like a crash.
#[test]
fn a_panicking_exit_hook_or_telemetry_handler_reaches_stderr() {
    if is_child_test() {
        let rt = quiet_runtime(1);
        let p = rt.spawn_fn(|(), ctx| ctx.exit(ExitReason::Normal));
        rt.on_exit(p.pid(), |_, _| panic!("hook bug")).unwrap();
        p.send(());
        assert_eq!(p.await_exit(Some(TIMEOUT)), Some(ExitReason::Normal));
        const EV: rotp_runtime::telemetry::EventName = &["test", "reports", "bad"];
        rotp_runtime::telemetry::attach("reports-bad", EV, |_, _, _| panic!("handler bug"))
            .unwrap();
        rotp_runtime::telemetry::execute(EV, &[], &[]);
        rt.shutdown(TIMEOUT).unwrap();
        return;
    }
    let (_, stderr) = run_child_test("a_panicking_exit_hook_or_telemetry_handler_reaches_stderr");
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[error] exit hook of process ") && l.contains("hook bug")),
        "{stderr}"
    );
    assert!(
        lines.iter().any(
            |l| l.starts_with("[error] telemetry handler `reports-bad` failed")
                && l.contains("handler bug")
        ),
        "{stderr}"
    );
}
