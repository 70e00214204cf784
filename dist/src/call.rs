//! Calls to gen_servers of other nodes, and the replies that come back.
//!
//! A call is OTP's: monitor the server, send
//! `{'$gen_call', {Self, [alias | Ref]}, Request}`, and wait for
//! `{[alias | Ref], Reply}` (sent to the alias `Ref`) or for the monitor's
//! `DOWN`. Here the "process" that waits is a pending entry keyed by the
//! reference: the reader thread that receives the reply (or the `DOWN`, or
//! the news that the connection is lost) completes it, and the caller,
//! blocked on a channel, wakes. A reply after the caller gave up finds no
//! entry and is dropped, which is what OTP's alias deactivation achieves.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::conn::Conn;
use crate::control::Frame;
use crate::dest::Dest;
use crate::error::{CallError, SendError};
use crate::node::{Node, Shared};
use crate::reason::exit_reason_from_term;
use crate::term::{Atom, BadMessage, FromTerm, RemotePid, RemoteRef, Term, ToTerm};

/// A call waiting for its reply.
pub(crate) struct PendingCall {
    peer: Atom,
    conn_id: u64,
    tx: Sender<CallEvent>,
}

enum CallEvent {
    Reply(Result<Term, BadMessage>),
    Down(Term),
    NoConnection,
}

/// Fails the calls that crossed a lost connection.
pub(crate) fn fail_calls(shared: &Shared, conn: &Conn) {
    let mut failed = Vec::new();
    shared.calls.lock().retain(|_, call| {
        let lost = call.peer == conn.peer && call.conn_id == conn.id;
        if lost {
            failed.push(call.tx.clone());
        }
        !lost
    });
    for tx in failed {
        let _ = tx.try_send(CallEvent::NoConnection);
    }
}

/// A message sent to an alias of this node: a call's reply,
/// `{Tag, Reply}`.
pub(crate) fn deliver_alias(
    shared: &Shared,
    from: &RemotePid,
    alias: &RemoteRef,
    msg: Result<Term, BadMessage>,
) {
    let Some(call) = shared.calls.lock().remove(alias) else {
        log::debug!("message from {from} to inactive alias {alias} dropped");
        return;
    };
    let reply = msg.and_then(|t| match t {
        Term::Tuple(mut t) if t.len() == 2 => Ok(t.pop().expect("two elements")),
        other => Err(BadMessage::Unexpected {
            error: crate::term::FromTermError::expected("{Tag, Reply}", &other),
            term: other,
        }),
    });
    let _ = call.tx.try_send(CallEvent::Reply(reply));
}

/// A `DOWN` for a call's monitor; true if it was one.
pub(crate) fn monitor_exit(shared: &Shared, mref: &RemoteRef, reason: &Term) -> bool {
    match shared.calls.lock().remove(mref) {
        Some(call) => {
            let _ = call.tx.try_send(CallEvent::Down(reason.clone()));
            true
        }
        None => false,
    }
}

/// An old-style reply, `{Ref, Reply}` sent to the caller's pid: taken if
/// `Ref` is a pending call's.
pub(crate) fn take_plain_reply(shared: &Shared, mut t: Vec<Term>) -> Result<(), Vec<Term>> {
    let Some(Term::Ref(r)) = t.first().filter(|_| t.len() == 2) else {
        return Err(t);
    };
    if r.node != shared.name {
        return Err(t);
    }
    let Some(call) = shared.calls.lock().remove(r) else {
        return Err(t);
    };
    let reply = t.pop().expect("two elements");
    let _ = call.tx.try_send(CallEvent::Reply(Ok(reply)));
    Ok(())
}

/// The alias a call tag asks the reply to go to: `[alias | Ref]`, or
/// `[[alias | Ref] | _]`.
fn tag_alias(tag: &Term) -> Option<&RemoteRef> {
    match tag {
        Term::ImproperList(items, tail) if items.len() == 1 && items[0].is_atom("alias") => {
            tail.as_ref().as_ref()
        }
        Term::List(items) | Term::ImproperList(items, _) => match items.first() {
            Some(Term::ImproperList(inner, tail))
                if inner.len() == 1 && inner[0].is_atom("alias") =>
            {
                tail.as_ref().as_ref()
            }
            _ => None,
        },
        _ => None,
    }
}

/// Where a reply to a `From` goes, and the message: `{Tag, Reply}` to the
/// tag's alias, or to the caller's pid. `None` if `from` is not a
/// `{Pid, Tag}`.
pub(crate) fn reply_target(from: &Term, reply: Term) -> Option<(ReplyTo, Term)> {
    let [Term::Pid(caller), tag] = from.as_tuple()? else {
        return None;
    };
    let msg = Term::tuple(vec![tag.clone(), reply]);
    Some(match tag_alias(tag) {
        Some(alias) => (ReplyTo::Alias(alias.clone()), msg),
        None => (ReplyTo::Pid(caller.clone()), msg),
    })
}

/// Where a reply goes.
pub(crate) enum ReplyTo {
    Alias(RemoteRef),
    Pid(RemotePid),
}

/// The frame answering `from` (a `{Pid, Tag}`), sent by `me`.
pub(crate) fn reply_frame(me: &RemotePid, from: &Term, reply: Term) -> Option<Frame> {
    let (to, msg) = reply_target(from, reply)?;
    let frame = match to {
        ReplyTo::Alias(alias) => Frame::alias_send(me, &alias, &msg),
        ReplyTo::Pid(pid) => Frame::send(me, &pid, &msg),
    };
    frame.ok()
}

impl Shared {
    /// Answers a gen_server call's `from` (`gen_server:reply/2`), on this
    /// node or another. Returns false if `from` is not a `{Pid, Tag}`.
    pub(crate) fn reply(&self, me: &RemotePid, from: &Term, reply: Term) -> bool {
        let Some((to, msg)) = reply_target(from, reply) else {
            return false;
        };
        match to {
            ReplyTo::Alias(alias) if alias.node == self.name => {
                deliver_alias(self, me, &alias, Ok(msg));
            }
            ReplyTo::Alias(alias) => {
                match Frame::alias_send(me, &alias, &msg).and_then(Frame::finish) {
                    Ok(frame) => self.send_frame_to(&alias.node, frame, false),
                    Err(e) => crate::report::error(format_args!("cannot encode a reply: {e}")),
                }
            }
            ReplyTo::Pid(pid) if pid.node == self.name => self.deliver(&pid, Some(me), Ok(msg)),
            ReplyTo::Pid(pid) => match Frame::send(me, &pid, &msg).and_then(Frame::finish) {
                Ok(frame) => self.send_frame_to(&pid.node, frame, false),
                Err(e) => crate::report::error(format_args!("cannot encode a reply: {e}")),
            },
        }
        true
    }
}

/// Waits for a call's outcome, up to `timeout`, without holding up a
/// scheduler worker; a waiting process told to exit stops waiting.
///
/// For the first `awake` (the runtime's `idle_wait`) the caller stays
/// awake, yielding its CPU between looks, before it sleeps until the
/// outcome wakes it: a call's round trip on loopback is 50-90 µs, of which
/// waking a sleeping thread took 25-30 on the host of `docs/benchmarks.md`
/// ("Staying awake"). A slower reply costs one wake-up, as before.
fn wait(
    rx: &Receiver<CallEvent>,
    timeout: Duration,
    awake: Duration,
) -> Result<CallEvent, CallError> {
    let started = Instant::now();
    let deadline = started + timeout;
    let in_process = rotp_runtime::self_pid().is_some();
    let step = || {
        if let Some(ev) = stay_awake(rx, started + awake.min(timeout)) {
            return Ok(ev);
        }
        sleep_until_outcome(rx, deadline, in_process)
    };
    if in_process {
        rotp_runtime::blocking(step)
    } else {
        step()
    }
}

/// Sleeps until the outcome or `deadline`; inside a process, wakes every
/// 50 ms to see whether the process was told to exit.
fn sleep_until_outcome(
    rx: &Receiver<CallEvent>,
    deadline: Instant,
    in_process: bool,
) -> Result<CallEvent, CallError> {
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(CallError::Timeout);
        }
        let slice = if in_process {
            (deadline - now).min(Duration::from_millis(50))
        } else {
            deadline - now
        };
        match rx.recv_timeout(slice) {
            Ok(ev) => return Ok(ev),
            Err(RecvTimeoutError::Timeout) => {
                if in_process
                    && rotp_runtime::Handle::try_current().is_some_and(|h| h.self_is_exiting())
                {
                    return Err(CallError::CallerExiting);
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Err(CallError::NoConnection),
        }
    }
}

/// Looks for the outcome until `until`, yielding the CPU between looks
/// (to whoever else wants it: the reader thread that will deliver the
/// reply, on a busy machine).
fn stay_awake(rx: &Receiver<CallEvent>, until: Instant) -> Option<CallEvent> {
    loop {
        if let Ok(ev) = rx.try_recv() {
            return Some(ev);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::yield_now();
    }
}

impl Node {
    /// Calls a gen_server on another node (`GenServer.call({name, node},
    /// request, timeout)`): sends `request` as a term and waits up to
    /// `timeout` for the reply, converted to `R`.
    ///
    /// The caller is the running process, or the node's own process when
    /// called from a plain thread. Errors are values ([`CallError`]): the
    /// server did not exist, timed out, exited, or its node is
    /// unreachable.
    ///
    /// ```no_run
    /// # use rotp_dist::{Node, Term};
    /// # use std::time::Duration;
    /// # fn f(node: &Node) -> Result<(), rotp_dist::CallError> {
    /// let n: i64 = node.call(("counter", "erl@127.0.0.1"), Term::atom("get"), Duration::from_secs(5))?;
    /// # Ok(()) }
    /// ```
    pub fn call<R: FromTerm>(
        &self,
        server: impl Into<Dest>,
        request: impl ToTerm,
        timeout: Duration,
    ) -> Result<R, CallError> {
        let shared = &self.shared;
        let server = server.into();
        let me = shared.sender();
        let mref = shared.make_ref();
        let tag = Term::ImproperList(vec![Term::atom("alias")], Box::new(Term::Ref(mref.clone())));
        let msg = Term::tuple(vec![
            Term::atom("$gen_call"),
            Term::tuple(vec![Term::Pid(me.clone()), tag]),
            request.to_term(),
        ]);
        let (tx, rx) = crossbeam_channel::bounded(1);
        let node = server.node().clone();
        let remote_conn = if node == shared.name {
            let local = match &server {
                Dest::Pid(p) => shared.local_pid(p),
                Dest::Name { name, .. } => shared.rt.whereis(name.as_str()),
            };
            let Some(pid) = local.filter(|p| shared.rt.is_alive(*p)) else {
                return Err(CallError::NoProc);
            };
            shared.calls.lock().insert(
                mref.clone(),
                PendingCall {
                    peer: node,
                    conn_id: 0,
                    tx,
                },
            );
            shared.deliver_to(pid, Some(&me), Ok(msg));
            None
        } else {
            let conn = shared
                .conn_for(&node)
                .map_err(|_| CallError::NoConnection)?;
            shared.calls.lock().insert(
                mref.clone(),
                PendingCall {
                    peer: node.clone(),
                    conn_id: conn.id,
                    tx,
                },
            );
            if conn.is_down() {
                shared.calls.lock().remove(&mref);
                return Err(CallError::NoConnection);
            }
            let busy = shared.opts.busy_limit;
            let monitor = Frame::monitor(&me, &server.proc_ref(), &mref).and_then(Frame::finish);
            let request = match &server {
                Dest::Pid(p) => Frame::send(&me, p, &msg),
                Dest::Name { name, .. } => Frame::reg_send(&me, name, &msg),
            }
            .and_then(Frame::finish);
            match (monitor, request) {
                (Ok(mut frames), Ok(request)) => {
                    // One write for both: the monitor, then the request.
                    frames.extend_from_slice(&request);
                    conn.send(frames, true, busy);
                }
                (Err(e), _) | (_, Err(e)) => {
                    shared.calls.lock().remove(&mref);
                    return Err(CallError::Encode(e));
                }
            }
            Some((conn, server.proc_ref()))
        };
        let outcome = wait(&rx, timeout, shared.rt.idle_wait());
        let demonitor = || {
            if let Some((conn, target)) = &remote_conn {
                if let Ok(frame) = Frame::demonitor(&me, target, &mref).and_then(Frame::finish) {
                    conn.send(frame, false, shared.opts.busy_limit);
                }
            }
        };
        match outcome {
            Ok(CallEvent::Reply(reply)) => {
                demonitor();
                let term = reply.map_err(CallError::BadReply)?;
                R::from_term(&term)
                    .map_err(|error| CallError::BadReply(BadMessage::Unexpected { term, error }))
            }
            Ok(CallEvent::Down(reason)) => Err(match reason {
                r if r.is_atom("noproc") => CallError::NoProc,
                r if r.is_atom("noconnection") => CallError::NoConnection,
                r => CallError::Exited(exit_reason_from_term(&r)),
            }),
            Ok(CallEvent::NoConnection) => Err(CallError::NoConnection),
            Err(e) => {
                shared.calls.lock().remove(&mref);
                demonitor();
                Err(e)
            }
        }
    }

    /// Casts to a gen_server on another node (`GenServer.cast`): sends
    /// `{'$gen_cast', request}`. Like OTP's cast it does not fail when the
    /// server or its node is gone; only an unencodable request is an
    /// error.
    pub fn cast(&self, server: impl Into<Dest>, request: impl ToTerm) -> Result<(), SendError> {
        let msg = Term::tuple(vec![Term::atom("$gen_cast"), request.to_term()]);
        self.send(server, msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_their_alias() {
        let r = RemoteRef::new(Atom::new("a@b"), 1, &[1, 2, 3]).unwrap();
        let alias = Term::ImproperList(vec![Term::atom("alias")], Box::new(Term::Ref(r.clone())));
        assert_eq!(tag_alias(&alias), Some(&r));
        let multi = Term::ImproperList(vec![alias.clone()], Box::new(Term::atom("x")));
        assert_eq!(tag_alias(&multi), Some(&r));
        assert_eq!(tag_alias(&Term::Ref(r)), None);
    }
}
