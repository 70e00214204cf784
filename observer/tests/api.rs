//! The observer's JSON API over plain HTTP: the tree, the process table,
//! one process, the scheduler history, names, exits; escaping of hostile
//! names and reasons; actions only when enabled; bounded, loopback-only
//! requests.

mod common;

use common::*;
use rotp_observer::{Observer, ObserverOptions};
use rotp_runtime::testing::wait_until;
use rotp_runtime::{ExitReason, Runtime};

fn setup(opts: ObserverOptions) -> (Runtime, rotp_supervisor::Supervisor, Observer) {
    let rt = Runtime::builder().workers(2).build().unwrap();
    let sup = system(&rt);
    let observer = Observer::start(&rt, opts).unwrap();
    (rt, sup, observer)
}

#[test]
fn the_page_is_served_with_a_strict_content_policy() {
    let (_rt, _sup, obs) = setup(ObserverOptions::new());
    let (status, body) = get(obs.addr(), "/");
    assert_eq!(status, 200);
    assert!(body.contains("<title>rotp observer</title>"));
    assert!(
        !body.contains("http://") && !body.contains("https://"),
        "no outside resources"
    );
    assert!(
        !body.contains("innerHTML"),
        "data never goes through innerHTML"
    );
    let (_, head) = {
        let mut c = std::net::TcpStream::connect(obs.addr()).unwrap();
        use std::io::{Read, Write};
        write!(c, "GET / HTTP/1.1\r\nHost: {}\r\n\r\n", obs.addr()).unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        (0, s)
    };
    assert!(head.contains("Content-Security-Policy: default-src 'none'"));
    assert!(head.contains("X-Content-Type-Options: nosniff"));
}

#[test]
fn the_tree_shows_supervisors_strategies_and_children() {
    let (rt, sup, obs) = setup(ObserverOptions::new());
    let (status, body) = get(obs.addr(), "/api/tree");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!(
        "\"pid\":\"{}\"",
        json_escaped(&sup.pid().to_string())
    )));
    assert!(body.contains("\"name\":\"app\""), "{body}");
    assert!(body.contains("\"strategy\":\"one_for_one\""), "{body}");
    assert!(body.contains("\"name\":\"inner\""), "{body}");
    assert!(body.contains("\"strategy\":\"rest_for_one\""), "{body}");
    assert!(body.contains("\"child_id\":\"leaf\""), "{body}");
    // The nested supervisor is not a root of its own.
    assert_eq!(body.matches("\"total_restarts\"").count(), 2, "{body}");
    assert!(body.starts_with("{\"roots\":[{"), "{body}");
    let leaf = rt.whereis("leaf").unwrap();
    assert!(body.contains(&json_escaped(&leaf.to_string())));
}

#[test]
fn hostile_names_and_exit_reasons_stay_strings() {
    let (rt, _sup, obs) = setup(ObserverOptions::new());
    let hostile = rt.whereis(HOSTILE_NAME).unwrap();
    for path in ["/api/tree", "/api/names", "/api/processes"] {
        let (status, body) = get(obs.addr(), path);
        assert_eq!(status, 200);
        assert!(
            body.contains(&json_escaped(HOSTILE_NAME)),
            "{path}: the name, escaped: {body}"
        );
        assert!(!body.contains('<') && !body.contains('>'), "{path}: {body}");
    }
    let (_, one) = get(obs.addr(), &format!("/api/process/{}", id(hostile)));
    assert!(one.contains(&json_escaped(HOSTILE_NAME)), "{one}");
    // It exits with a hostile reason: the recent exits list shows it,
    // escaped.
    rt.addr_of::<String>(hostile)
        .unwrap()
        .send(HOSTILE_REASON.to_owned());
    assert!(wait_until(TIMEOUT, || get(obs.addr(), "/api/exits")
        .1
        .contains(&json_escaped(HOSTILE_REASON))));
    let (_, exits) = get(obs.addr(), "/api/exits");
    assert!(!exits.contains('<'), "{exits}");
}

#[test]
fn the_process_table_sorts_and_carries_the_counters() {
    let (rt, _sup, obs) = setup(ObserverOptions::new());
    // A process with a queue: it waits on a gate, so its mailbox fills.
    let gate = rotp_runtime::testing::Gate::new();
    let opener = gate.opener();
    let g = gate.clone();
    let busy = rt.spawn_fn(move |_: u32, _ctx| {
        g.wait_blocking();
    });
    for i in 0..50 {
        busy.send(i);
    }
    assert!(wait_until(TIMEOUT, || rt
        .process_info(busy.pid())
        .is_some_and(|i| i.mailbox_len >= 49)));
    let (status, body) = get(obs.addr(), "/api/processes?sort=mailbox&limit=1");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"sort\":\"mailbox\""));
    assert!(
        body.contains(&format!("\"id\":\"{}\"", id(busy.pid()))),
        "the longest queue comes first: {body}"
    );
    assert_eq!(body.matches("\"pid\"").count(), 1, "limit=1: {body}");
    for key in [
        "\"reductions\":",
        "\"memory\":",
        "\"behaviour\":",
        "\"type\":",
        "\"status\":",
    ] {
        assert!(body.contains(key), "{key}: {body}");
    }
    assert_eq!(get(obs.addr(), "/api/processes?sort=age").0, 400);
    assert_eq!(get(obs.addr(), "/api/processes?limit=many").0, 400);
    drop(opener);
}

#[test]
fn one_process_shows_its_links_and_status() {
    let (rt, sup, obs) = setup(ObserverOptions::new());
    let leaf = rt.whereis("leaf").unwrap();
    let inner = rt.whereis("inner").unwrap();
    let (status, body) = get(obs.addr(), &format!("/api/process/{}", id(inner)));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"behaviour\":\"supervisor\""), "{body}");
    // Linked to its parent and to its child.
    let links = body
        .split("\"links\":[")
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap();
    assert!(links.contains(&id(sup.pid())), "{links}");
    assert!(links.contains(&id(leaf)), "{links}");
    assert!(
        body.contains("\"status\":{\"behaviour\":\"supervisor\""),
        "{body}"
    );
    assert!(body.contains("[\"strategy\",\"rest_for_one\"]"), "{body}");
    // Brackets may be left on, as the pid prints.
    assert_eq!(
        get(obs.addr(), &format!("/api/process/%3C{}%3E", id(inner))).0,
        200
    );
    assert_eq!(get(obs.addr(), "/api/process/0.999999.7").0, 404);
    assert_eq!(get(obs.addr(), "/api/process/nonsense").0, 400);
}

#[test]
fn the_scheduler_history_fills_with_one_point_per_worker() {
    let (_rt, _sup, obs) =
        setup(ObserverOptions::new().sample_interval(std::time::Duration::from_millis(100)));
    assert!(wait_until(TIMEOUT, || get(obs.addr(), "/api/schedulers")
        .1
        .matches("\"utilisation\"")
        .count()
        >= 2));
    let (_, body) = get(obs.addr(), "/api/schedulers");
    assert!(body.starts_with("{\"workers\":2,"), "{body}");
    let first = body.split("\"utilisation\":[").nth(1).unwrap();
    let values = first.split(']').next().unwrap();
    assert_eq!(
        values.split(',').count(),
        2,
        "one value per worker: {values}"
    );
}

#[test]
fn actions_are_refused_unless_enabled() {
    let (rt, _sup, obs) = setup(ObserverOptions::new());
    let leaf = rt.whereis("leaf").unwrap();
    let (status, body) = post(obs.addr(), &format!("/api/process/{}/kill", id(leaf)), true);
    assert_eq!(status, 403, "{body}");
    assert!(rt.is_alive(leaf));
}

#[test]
fn enabled_actions_kill_and_need_the_action_header() {
    let (rt, _sup, obs) = setup(ObserverOptions::new().allow_actions(true));
    let leaf = rt.whereis("leaf").unwrap();
    let path = format!("/api/process/{}/kill", id(leaf));
    assert_eq!(post(obs.addr(), &path, false).0, 403, "a plain form post");
    assert!(rt.is_alive(leaf));
    let (status, body) = post(obs.addr(), &path, true);
    assert_eq!(status, 200, "{body}");
    let reason = rt.process_ref(leaf).map(|r| r.await_exit(Some(TIMEOUT)));
    assert!(matches!(reason, None | Some(Some(ExitReason::Killed))));
    // A raw process cannot be suspended.
    let counter = rt.whereis("counter").unwrap();
    let (status, _) = post(
        obs.addr(),
        &format!("/api/process/{}/suspend", id(counter)),
        true,
    );
    assert_eq!(status, 400);
}

#[test]
fn requests_for_another_host_or_too_large_or_malformed_are_refused() {
    let (_rt, _sup, obs) = setup(ObserverOptions::new());
    let addr = obs.addr();
    let rebound = raw(
        addr,
        b"GET /api/names HTTP/1.1\r\nHost: evil.example:80\r\n\r\n",
    );
    assert_eq!(rebound.0, 421);
    let no_host = raw(addr, b"GET /api/names HTTP/1.1\r\n\r\n");
    assert_eq!(no_host.0, 421);
    let localhost = raw(
        addr,
        format!(
            "GET /api/names HTTP/1.1\r\nHost: localhost:{}\r\n\r\n",
            addr.port()
        )
        .as_bytes(),
    );
    assert_eq!(localhost.0, 200);
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    assert_eq!(raw(addr, huge.as_bytes()).0, 431);
    assert_eq!(raw(addr, b"BREW /pot HTCPCP/1.0\r\n\r\n").0, 400);
    assert_eq!(get(addr, "/nothing").0, 404);
}

#[test]
fn it_binds_to_loopback_and_stops_serving_when_dropped() {
    let (_rt, _sup, obs) = setup(ObserverOptions::new());
    let addr = obs.addr();
    assert!(addr.ip().is_loopback());
    assert!(obs.url().starts_with("http://127.0.0.1:"));
    obs.stop();
    assert!(wait_until(TIMEOUT, || std::net::TcpStream::connect(addr).is_err()));
}
