//! Bounded mailboxes (`StartOptions::mailbox_limit`): what each overflow
//! policy does to casts, calls, `sys` requests and `stop` when the server
//! is flooded. (OTP's mailboxes are unbounded; this is a rotp extension.)

mod common;

use std::time::Duration;

use common::*;
use rotp_gen_server::{
    noreply, start, CallError, CastError, Init, ServerRef, StartOptions, StopError,
};
use rotp_runtime::testing::LogCapture;
use rotp_runtime::testing::Probe;
use rotp_runtime::{ExitReason, Overflow, Runtime};

const LIMIT: u32 = 3;

/// Starts a puppet with a mailbox of `LIMIT` and `overflow`, holds it on
/// `gate`, and fills its mailbox with counting casts.
fn flooded(
    rt: &Runtime,
    probe: &Probe<Ev>,
    overflow: Overflow,
    gate: &Gate,
    trap: bool,
) -> ServerRef<Puppet> {
    let s = script_with(probe, move |p, ctx| {
        ctx.trap_exit(trap);
        Init::ok(p)
    });
    let server =
        start::<Puppet>(rt, s, StartOptions::new().mailbox_limit(LIMIT, overflow)).unwrap();
    hold(&server, probe, gate);
    for _ in 0..LIMIT {
        let counted = job(|p, _| {
            p.count += 1;
            noreply()
        });
        assert_eq!(server.try_cast(counted), Ok(()));
    }
    server
}

/// Opens `gate` and waits until the server has taken everything queued,
/// so that the next request fits.
fn catch_up(rt: &Runtime, server: &ServerRef<Puppet>, gate: &Gate) {
    gate.open();
    let pid = server.pid().unwrap();
    rotp_runtime::testing::assert_eventually(TIMEOUT, "the server catches up", || {
        rt.process_info(pid).is_some_and(|i| i.mailbox_len == 0)
    });
}

/// A cast that counts, for overflowing.
fn counting() -> Job {
    job(|p, _| {
        p.count += 1;
        noreply()
    })
}

/// `Overflow::Reject`: a full mailbox refuses casts (`try_cast` says so,
/// `cast` drops silently), calls fail at once with `MailboxFull`; what was
/// queued is handled once the server catches up.
#[test]
fn reject_refuses_what_does_not_fit() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let gate = Gate::new();
        let _opener = gate.opener();
        let server = flooded(rt, &probe, Overflow::Reject, &gate, false);
        assert_eq!(server.try_cast(counting()), Err(CastError::MailboxFull));
        server.cast(counting());
        server.send_info(Note::Run(counting()));
        let s = server.clone();
        assert_eq!(
            err(bounded(move || s.call(call_job(defer_call)))),
            CallError::MailboxFull
        );
        let s = server.clone();
        assert_eq!(
            err(bounded(move || s.send_request(call_job(defer_call)))),
            CallError::MailboxFull
        );
        catch_up(rt, &server, &gate);
        assert_eq!(ask(&server, |p, _| p.count), i64::from(LIMIT));
        assert_eq!(rt.now(), Duration::ZERO);
    });
}

/// `Overflow::Reject`: `sys` requests and `stop` to a full server report
/// the full mailbox, not a missing server.
#[test]
fn reject_reports_a_full_mailbox_to_sys_requests_and_stop() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let gate = Gate::new();
        let _opener = gate.opener();
        let server = flooded(rt, &probe, Overflow::Reject, &gate, false);
        assert_eq!(server.get_state(|p| p.count), Err(CallError::MailboxFull));
        assert_eq!(server.status().map(|_| ()), Err(CallError::MailboxFull));
        assert_eq!(
            server.stop(ExitReason::Normal, None),
            Err(StopError::MailboxFull)
        );
        assert!(server.is_alive());
        catch_up(rt, &server, &gate);
        assert_eq!(ask(&server, |p, _| p.count), i64::from(LIMIT));
    });
}

/// `Overflow::Drop`: what does not fit is dropped as if delivered —
/// `try_cast` reports success, and a call is answered by nobody, so it
/// times out.
#[test]
fn drop_loses_what_does_not_fit() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let gate = Gate::new();
        let _opener = gate.opener();
        let server = flooded(rt, &probe, Overflow::Drop, &gate, false);
        assert_eq!(server.try_cast(counting()), Ok(()));
        server.send_info(Note::Run(counting()));
        let s = server.clone();
        let call = in_thread(move || s.call(call_job(defer_call)).map(|_| ()));
        wait_timers(rt, 1);
        rt.advance(Duration::from_secs(5));
        assert_eq!(finished(&call), Err(CallError::Timeout));
        catch_up(rt, &server, &gate);
        assert_eq!(ask(&server, |p, _| p.count), i64::from(LIMIT));
    });
}

/// `Overflow::Exit`: the overflowing message ends the server with
/// `mailbox_overflow` — even one that traps exits, and without
/// `terminate`; a caller waiting on it gets that reason.
#[test]
fn exit_ends_the_server_on_overflow() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let gate = Gate::new();
        let _opener = gate.opener();
        let server = flooded(rt, &probe, Overflow::Exit, &gate, true);
        let mref = probe.monitor(server.pid().unwrap());
        server.cast(counting());
        // The kill takes effect when the held handler returns (R1).
        gate.open();
        assert_eq!(
            down_reason(&probe, mref),
            ExitReason::custom("mailbox_overflow")
        );
        refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
    });
}

/// `Overflow::Exit`: a call waiting in the mailbox when the server
/// overflows fails with the overflow.
#[test]
fn exit_fails_a_pending_call() {
    each_virtual_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let s = script(&probe);
        let server = start::<Puppet>(
            rt,
            s,
            StartOptions::new().mailbox_limit(LIMIT, Overflow::Exit),
        )
        .unwrap();
        let gate = Gate::new();
        let _opener = gate.opener();
        hold(&server, &probe, &gate);
        let srv = server.clone();
        let call = in_thread(move || srv.call(call_job(|_, r, _| answer(r, ()))).map(|_| ()));
        wait_queued(rt, server.pid().unwrap(), 1);
        for _ in 0..LIMIT {
            server.cast(counting());
        }
        gate.open();
        assert_eq!(
            finished(&call),
            Err(CallError::Exited(ExitReason::custom("mailbox_overflow")))
        );
    });
}

/// A cast that logs `i`.
fn logging(i: usize) -> Job {
    job(move |p, _| {
        p.log.push(i.to_string());
        noreply()
    })
}

/// Casts `LIMIT + 2` logging casts to a suspended `server`, each once the
/// server has taken the one before (a `sys` request queues behind it), so
/// that its own mailbox never holds more than one; stops early if the
/// server exits. Every cast is accepted by the mailbox.
fn flood_suspended(server: &ServerRef<Puppet>) {
    for i in 0..LIMIT as usize + 2 {
        assert_eq!(server.try_cast(logging(i)), Ok(()), "cast {i}");
        if server.status().is_err() {
            return;
        }
    }
}

/// A suspended server holds what it may not handle yet, and with a mailbox
/// limit what it holds counts against it: past the limit a message meets
/// the policy — `Drop` drops it, `Reject` drops it with a warning (its
/// sender was already told it was delivered), `Exit` ends the server with
/// `mailbox_overflow` without `terminate`. `sys` requests and `resume` are
/// never held: a full suspended server still answers them, and once
/// resumed handles the messages it kept, in order.
#[test]
fn a_suspended_server_honours_its_mailbox_limit() {
    each_runtime(|rt| {
        let log = LogCapture::install(log::LevelFilter::Debug);
        let probe = Probe::spawn(rt);
        for overflow in [Overflow::Reject, Overflow::Drop, Overflow::Exit] {
            let name = format!("suspended-{overflow:?}-{}", rt.workers());
            let opts = StartOptions::new()
                .name(name.as_str())
                .mailbox_limit(LIMIT, overflow);
            let server = start::<Puppet>(rt, script(&probe), opts).unwrap();
            let mref = probe.monitor(server.pid().unwrap());
            server.suspend().unwrap();
            flood_suspended(&server);
            if overflow == Overflow::Exit {
                assert_eq!(
                    down_reason(&probe, mref),
                    ExitReason::custom("mailbox_overflow")
                );
                refute_event(&probe, |e| matches!(e, Ev::Terminate(_)));
                continue;
            }
            assert!(server.status().unwrap().suspended);
            assert_eq!(server.get_state(|p| p.log.len()), Ok(0), "{overflow:?}");
            server.resume().unwrap();
            assert_eq!(
                ask(&server, |p, _| p.log.clone()),
                ["0", "1", "2"],
                "{overflow:?}: only the first {LIMIT} were kept"
            );
            let warnings = log
                .lines(|l| {
                    l.starts_with("WARN")
                        && l.contains(&format!("{name} ("))
                        && l.contains("dropped a cast")
                })
                .len();
            let expected = if overflow == Overflow::Reject { 2 } else { 0 };
            assert_eq!(warnings, expected, "{overflow:?}");
            server.stop(ExitReason::Normal, None).unwrap();
            expect_event(&probe, |e| *e == Ev::Terminate(ExitReason::Normal));
        }
    });
}

/// The same bound for a server that entered the loop with `spawn_enter`:
/// its spawn options' mailbox limit bounds what it holds while suspended.
#[test]
fn a_suspended_entered_server_honours_its_mailbox_limit() {
    each_runtime(|rt| {
        let probe = Probe::spawn(rt);
        let ev = probe.addr().clone();
        let opts = rotp_runtime::SpawnOptions::new().mailbox_limit(LIMIT, Overflow::Drop);
        let (server, _) = rotp_gen_server::spawn_enter::<Puppet, _>(rt, &opts, move |_| {
            let puppet = Puppet {
                ev,
                count: 0,
                log: Vec::new(),
                deferred: Vec::new(),
                after_info: None,
                on_terminate: None,
                shown: "entered".to_owned(),
            };
            rotp_gen_server::enter_loop(puppet, rotp_gen_server::EnterOptions::new())
        });
        server.suspend().unwrap();
        flood_suspended(&server);
        server.resume().unwrap();
        assert_eq!(ask(&server, |p, _| p.log.clone()), ["0", "1", "2"]);
    });
}
