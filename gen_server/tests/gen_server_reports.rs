//! Rule 92: a server that stops with an abnormal reason is reported — one
//! line on stderr when no `log` logger is set, a structured record when one
//! is — and that report stands for the process's crash report. A logger is
//! global to a program, so the scenarios run in child processes of this
//! test binary (`run_child_test`).

mod common;

use common::*;
use rotp_gen_server::{noreply, start, StartOptions};
use rotp_runtime::testing::LogCapture;
use rotp_runtime::testing::{is_child_test, run_child_test, Probe};
use rotp_runtime::Runtime;

/// A runtime without the watchdog: on a loaded machine a handler may seem
/// long and add a `long_schedule` line to the stderr these tests count.
fn quiet_runtime(workers: usize) -> Runtime {
    Runtime::builder()
        .workers(workers)
        .watchdog_threshold(None)
        .build()
        .unwrap()
}

/// Starts a named puppet in a runtime of each size and crashes it;
/// prints `crashed <pid> <name>` on stdout for each.
fn crash_named_servers() {
    for workers in WORKER_COUNTS {
        let rt = quiet_runtime(workers);
        let probe = Probe::spawn(&rt);
        let name = format!("r92-{workers}");
        let s = script_with(&probe, |mut p, _| {
            p.shown = "state-r92".into();
            rotp_gen_server::Init::ok(p)
        });
        let server = start::<Puppet>(&rt, s, StartOptions::new().name(name.as_str())).unwrap();
        println!("crashed {} {name}", server.pid().unwrap());
        cast(&server, |_, _| panic!("r92 boom"));
        exit_reason(&server);
        rt.shutdown(TIMEOUT).unwrap();
    }
}

fn crashed(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| l.split_once("crashed ").map(|(_, rest)| rest))
        .map(|l| {
            let (pid, name) = l.split_once(' ').unwrap();
            (pid.to_owned(), name.to_owned())
        })
        .collect()
}

/// No logger: one `[error]` line per crash, naming the server (name and
/// pid), the reason and the state; no separate crash report.
#[test]
fn rule_92_without_a_logger_a_crashing_server_prints_one_line() {
    if is_child_test() {
        return crash_named_servers();
    }
    let (stdout, stderr) =
        run_child_test("rule_92_without_a_logger_a_crashing_server_prints_one_line");
    let crashed = crashed(&stdout);
    assert_eq!(crashed.len(), WORKER_COUNTS.len(), "{stdout}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), crashed.len(), "one line per crash:\n{stderr}");
    for ((pid, name), line) in crashed.iter().zip(&lines) {
        assert!(
            line.starts_with(&format!("[error] gen_server {name} ({pid}) terminating: ")),
            "{line}"
        );
        assert!(line.contains("r92 boom"), "{line}");
        assert!(line.ends_with("; state: state-r92"), "{line}");
    }
}

/// With a logger: the report is an error record with the server's pid,
/// name, type, reason and state as key-values; the runtime adds no crash
/// report, and stderr stays quiet.
#[test]
fn rule_92_with_a_logger_the_termination_report_is_structured() {
    if is_child_test() {
        let logs = LogCapture::install(log::LevelFilter::Debug);
        crash_named_servers();
        let reports = logs.records(|r| r.kv("kind") == Some("gen_server_terminating"));
        assert_eq!(reports.len(), WORKER_COUNTS.len(), "{reports:?}");
        for r in &reports {
            assert_eq!(r.level, log::Level::Error);
            assert!(r.kv("name").is_some_and(|n| n.starts_with("r92-")), "{r:?}");
            assert!(r.line.contains(r.kv("pid").unwrap()), "{r:?}");
            assert!(r.kv("type").is_some_and(|t| t.ends_with("Puppet")), "{r:?}");
            assert!(
                r.kv("reason").is_some_and(|t| t.contains("r92 boom")),
                "{r:?}"
            );
            assert_eq!(r.kv("state"), Some("state-r92"));
        }
        let crash = logs.records(|r| r.kv("kind") == Some("crash_report"));
        assert!(crash.is_empty(), "no second report: {crash:?}");
        return;
    }
    let (_, stderr) = run_child_test("rule_92_with_a_logger_the_termination_report_is_structured");
    assert_eq!(stderr, "");
}

/// How often `Counted::format_status` ran.
static FORMATTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A server that stops with the reason it is cast, and counts how often
/// its state is formatted for a report.
struct Counted;

#[rotp_gen_server::gen_server]
impl rotp_gen_server::GenServer for Counted {
    fn init(
        (): (),
        _ctx: &mut rotp_gen_server::Ctx<'_, Self>,
    ) -> rotp_gen_server::InitResult<Self> {
        rotp_gen_server::Init::ok(Counted)
    }

    fn handle_cast(
        &mut self,
        reason: &'static str,
        _ctx: &mut rotp_gen_server::Ctx<'_, Self>,
    ) -> rotp_gen_server::Handled<Self> {
        rotp_gen_server::stop(reason)
    }

    fn format_status(&self) -> String {
        FORMATTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        "counted".to_owned()
    }
}

/// Starts a `Counted` server and stops it with the abnormal `reason`;
/// returns how often its state was formatted meanwhile.
fn stop_counted(rt: &Runtime, reason: &'static str) -> usize {
    let before = FORMATTED.load(std::sync::atomic::Ordering::SeqCst);
    let server = start::<Counted>(rt, (), StartOptions::new()).unwrap();
    server.cast(reason);
    exit_reason(&server);
    FORMATTED.load(std::sync::atomic::Ordering::SeqCst) - before
}

/// A termination report that would be written nowhere (the route `Off`)
/// is not built: the state is not formatted for it. With a route that
/// writes it, it is, once.
#[test]
fn a_report_written_nowhere_is_not_built() {
    if is_child_test() {
        let rt = quiet_runtime(2);
        rotp_runtime::set_report_route(rotp_runtime::ReportRoute::Off);
        assert_eq!(stop_counted(&rt, "unheard"), 0, "formatted for nobody");
        rotp_runtime::set_report_route(rotp_runtime::ReportRoute::Stderr);
        assert_eq!(stop_counted(&rt, "heard"), 1, "formatted for its report");
        rt.shutdown(TIMEOUT).unwrap();
        return;
    }
    let (_, stderr) = run_child_test("a_report_written_nowhere_is_not_built");
    assert!(!stderr.contains("unheard"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("heard; state: counted"), "{stderr}");
}

/// `StartOptions::mailbox_high_water` reaches the server's mailbox: the
/// warning names the server.
#[test]
fn mailbox_high_water_warns_naming_the_server() {
    let logs = LogCapture::install(log::LevelFilter::Debug);
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let name = format!("hw-server-{}", rt.workers());
        let server = start::<Puppet>(
            rt,
            script(&probe),
            StartOptions::new()
                .name(name.as_str())
                .mailbox_high_water(5),
        )
        .unwrap();
        let gate = Gate::new();
        let _open = gate.opener();
        hold(&server, &probe, &gate);
        let warned = || {
            logs.records(|r| {
                r.kv("kind") == Some("mailbox_high_water") && r.kv("name") == Some(name.as_str())
            })
        };
        for _ in 0..4 {
            cast(&server, |_, _| noreply());
        }
        assert!(warned().is_empty());
        cast(&server, |_, _| noreply());
        let warned = warned();
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert_eq!(
            warned[0].kv("pid"),
            Some(server.pid().unwrap().to_string().as_str())
        );
        assert_eq!(warned[0].kv("len"), Some("5"));
        gate.open();
    });
}
