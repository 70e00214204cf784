//! The observer page in a real browser: headless Chromium loads it from a
//! running supervised system, lets its script run, and the test reads the
//! rendered DOM: the supervision tree, a named process (with a hostile
//! name shown as text, not markup), and a scheduler chart with points. A
//! screenshot goes to `target/observer.png` for people to look at.
//!
//! Needs `chromium`: the test command (`scripts/test.sh`) installs it
//! where it is missing. Without it the test fails: it never passes by
//! skipping.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use rotp_observer::{Observer, ObserverOptions};
use rotp_runtime::testing::wait_until;
use rotp_runtime::Runtime;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("which").arg(name).output().ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
}

/// Where the screenshot goes: the workspace's `target/`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// Runs headless Chromium on `url` with `extra` arguments and a fresh
/// profile; returns its stdout. Bounded: killed after a minute.
fn run_chromium(browser: &Path, url: &str, extra: &[&str]) -> String {
    let profile = std::env::temp_dir().join(format!(
        "rotp-observer-chromium-{}-{}",
        std::process::id(),
        extra.len()
    ));
    let _ = std::fs::remove_dir_all(&profile);
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=4000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let finished = wait_until(Duration::from_secs(60), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !finished {
        let _ = child.kill();
        let _ = child.wait();
    }
    let out = reader.join().unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(finished, "chromium did not finish within a minute");
    out
}

#[test]
fn chromium_renders_the_tree_a_named_process_and_a_chart() {
    let browser = chromium()
        .expect("chromium is missing: scripts/test.sh (or scripts/ensure-tools.sh) installs it");
    let rt = Runtime::builder().workers(2).build().unwrap();
    let _sup = system(&rt);
    // Some load, so the charts have something to show.
    let load = rt.spawn_fn(|n: u64, ctx| {
        if n > 0 {
            ctx.addr().send(n - 1);
        }
    });
    load.send(200_000);
    let observer = Observer::start(
        &rt,
        ObserverOptions::new().sample_interval(Duration::from_millis(200)),
    )
    .unwrap();
    // Let the history have a few points before the page first loads.
    assert!(wait_until(TIMEOUT, || get(
        observer.addr(),
        "/api/schedulers"
    )
    .1
    .matches("\"utilisation\"")
    .count()
        >= 3));
    let url = observer.url();

    let dom = run_chromium(&browser, &url, &["--dump-dom"]);
    assert!(dom.contains("rotp observer"), "the page loaded: {dom}");

    // The tree: both supervisors, with their strategies, as list items.
    let tree = section(&dom, "id=\"tree\"");
    assert!(tree.contains(">app<"), "the root supervisor: {tree}");
    assert!(tree.contains(">inner<"), "the nested supervisor: {tree}");
    assert!(tree.contains(">rest_for_one<"), "{tree}");
    assert!(tree.matches("class=\"sup\"").count() >= 2, "{tree}");

    // A named process, in the table and the names list, as text: the
    // hostile name is escaped in the serialized DOM, never an element.
    let escaped = "&lt;img src=x onerror=alert(1)&gt;\"&amp;'";
    assert!(dom.contains(">counter<"), "the named process 'counter'");
    assert!(dom.contains(escaped), "the hostile name shown as text");
    assert!(!dom.contains("<img"), "no element made from a name");

    // A scheduler chart with points.
    let points = chart_points(&dom, "chart-utilisation");
    assert!(points >= 1, "the utilisation chart has points: {points}");
    assert!(chart_points(&dom, "chart-rates") >= 1);

    // A screenshot for people to look at.
    let target = target_dir();
    std::fs::create_dir_all(&target).unwrap();
    let shot = target.join("observer.png");
    let _ = std::fs::remove_file(&shot);
    run_chromium(
        &browser,
        &url,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
            "--hide-scrollbars",
        ],
    );
    let meta = std::fs::metadata(&shot).expect("the screenshot was written");
    assert!(meta.len() > 10_000, "a real picture: {} bytes", meta.len());
    drop(observer);
    rt.kill(load.pid());
}

/// The part of `dom` from the element with attribute `attr` to the end of
/// its section.
fn section<'a>(dom: &'a str, attr: &str) -> &'a str {
    let start = dom.find(attr).unwrap_or_else(|| panic!("{attr} in {dom}"));
    let rest = &dom[start..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    &rest[..end]
}

/// The `data-points` of the canvas with `id`.
fn chart_points(dom: &str, id: &str) -> usize {
    let canvas = dom
        .split("<canvas")
        .find(|c| c.contains(&format!("id=\"{id}\"")))
        .unwrap_or_else(|| panic!("canvas {id} in {dom}"));
    canvas
        .split("data-points=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
