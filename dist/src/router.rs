//! Routing what arrives from other nodes (on a connection's reader
//! thread): messages to processes and to pending calls, signals to
//! proxies.
//!
//! Nothing here blocks and nothing here panics on bad input: a frame that
//! does not decode is logged and dropped, and the connection stays up; a
//! message that decodes but does not fit its receiver reaches the receiver
//! as a [`BadMessage`] if it asked for those, and is logged otherwise.

use std::sync::Arc;

use rotp_runtime::Pid;

use crate::conn::Conn;
use crate::control::{Frame, Incoming, ProcRef, Reason, PASS_THROUGH};
use crate::node::Shared;
use crate::proxy::{Inbound, Proxy, ProxyHandle, ProxyMsg, Target};
use crate::term::{decode_versioned, Atom, BadMessage, RemotePid, Term};

/// Handles one frame from `conn`.
pub(crate) fn dispatch(shared: &Arc<Shared>, conn: &Arc<Conn>, body: &[u8]) {
    if body.first() != Some(&PASS_THROUGH) {
        crate::report::warn(format_args!(
            "connection to {}: dropped a frame of unknown format (first byte {:?})",
            conn.peer,
            body.first()
        ));
        return;
    }
    let (control, used) = match decode_versioned(&body[1..], shared.opts.limits) {
        Ok(decoded) => decoded,
        Err(e) => {
            crate::report::warn(format_args!(
                "connection to {}: dropped a frame whose control message does not decode: {e}",
                conn.peer
            ));
            return;
        }
    };
    let payload = &body[1 + used..];
    let incoming = match Incoming::parse(control) {
        Ok(i) => i,
        Err(e) => {
            crate::report::warn(format_args!(
                "connection to {}: dropped a frame: {e}",
                conn.peer
            ));
            return;
        }
    };
    let message = || decode_payload(shared, payload);
    // Signals must come from the peer's own processes.
    let foreign = |pid: &RemotePid| {
        if pid.node != conn.peer {
            crate::report::warn(format_args!(
                "connection to {}: dropped a signal claiming to come from {pid}",
                conn.peer
            ));
            true
        } else {
            false
        }
    };
    match incoming {
        Incoming::Send { from, to } => {
            shared.deliver(&to, from.as_ref(), message());
        }
        Incoming::RegSend { from, to } => {
            deliver_named(shared, conn, &from, &to, message());
        }
        Incoming::AliasSend { from, alias } => {
            crate::call::deliver_alias(shared, &from, &alias, message());
        }
        Incoming::Link { from, to } => {
            if foreign(&from) {
                return;
            }
            match shared.local_pid(&to) {
                Some(local) if shared.rt.is_alive(local) => {
                    to_proxy(
                        shared,
                        Target::Pid(from),
                        true,
                        ProxyMsg::RemoteLink { to: local },
                    );
                }
                // Linking a process that does not exist: an exit `noproc`
                // comes straight back.
                _ => reply(shared, conn, Frame::exit(&to, &from, &Term::atom("noproc"))),
            }
        }
        Incoming::Unlink { id, from, to } => {
            if foreign(&from) {
                return;
            }
            let delivered = shared.local_pid(&to).is_some_and(|local| {
                to_proxy(
                    shared,
                    Target::Pid(from.clone()),
                    false,
                    ProxyMsg::RemoteUnlink { id, to: local },
                )
            });
            if !delivered {
                if let Some(id) = id {
                    reply(shared, conn, Frame::unlink_id_ack(id, &to, &from));
                }
            }
        }
        Incoming::UnlinkAck { id, from, to } => {
            if let Some(local) = shared.local_pid(&to) {
                to_proxy(
                    shared,
                    Target::Pid(from),
                    false,
                    ProxyMsg::RemoteUnlinkAck { id, to: local },
                );
            }
        }
        Incoming::Exit { from, to, reason } => {
            if foreign(&from) {
                return;
            }
            if let Some(local) = shared.local_pid(&to) {
                let reason = reason_term(reason, message);
                to_proxy(
                    shared,
                    Target::Pid(from),
                    false,
                    ProxyMsg::RemoteExit { to: local, reason },
                );
            }
        }
        Incoming::Exit2 { from, to, reason } => {
            if foreign(&from) {
                return;
            }
            if let Some(local) = shared.local_pid(&to) {
                let reason = reason_term(reason, message);
                to_proxy(
                    shared,
                    Target::Pid(from),
                    true,
                    ProxyMsg::RemoteExit2 { to: local, reason },
                );
            }
        }
        Incoming::Monitor { from, to, mref } => {
            if foreign(&from) {
                return;
            }
            let (local, named) = match &to {
                ProcRef::Pid(p) => (shared.local_pid(p), None),
                // The node's own net_kernel lives as long as the node: a
                // monitor on it (net_adm:ping's call) never fires.
                ProcRef::Name(n) if n.as_str() == "net_kernel" => return,
                ProcRef::Name(n) => (shared.rt.whereis(n.as_str()), Some(n.clone())),
            };
            match local {
                Some(local) if shared.rt.is_alive(local) => {
                    let mut proxies = shared.proxies.lock();
                    let target = Target::Pid(from);
                    let proxy = match proxies.by_target.get(&target) {
                        Some(h) => h.clone(),
                        None => spawn_proxy(shared, &mut proxies, target),
                    };
                    if proxy.inbound.lock().add(local, mref, named) {
                        proxy.addr.send(ProxyMsg::WatchLocal(local));
                    }
                }
                _ => reply(
                    shared,
                    conn,
                    Frame::monitor_exit(&to, &from, &mref, &Term::atom("noproc")),
                ),
            }
        }
        Incoming::Demonitor { from, mref, .. } => {
            let proxies = shared.proxies.lock();
            if let Some(proxy) = proxies.by_target.get(&Target::Pid(from)) {
                proxy.inbound.lock().remove(&mref);
            }
        }
        Incoming::MonitorExit {
            from,
            to: _,
            mref,
            reason,
        } => {
            let reason = reason_term(reason, message);
            if crate::call::monitor_exit(shared, &mref, &reason) {
                return;
            }
            let target = match from {
                ProcRef::Pid(p) => Target::Pid(p),
                ProcRef::Name(n) => Target::Name(n, conn.peer.clone()),
            };
            to_proxy(shared, target, false, ProxyMsg::RemoteDown { mref, reason });
        }
        Incoming::Ignored(op) => {
            log::debug!(
                "connection to {}: ignored control operation {op}",
                conn.peer
            );
        }
    }
}

fn decode_payload(shared: &Shared, payload: &[u8]) -> Result<Term, BadMessage> {
    Term::from_bytes_with(payload, shared.opts.limits).map_err(|error| BadMessage::Undecodable {
        error,
        len: payload.len(),
    })
}

/// An exit reason, from the control tuple or the payload; one that does
/// not decode is shown as its error.
fn reason_term(reason: Reason, payload: impl FnOnce() -> Result<Term, BadMessage>) -> Term {
    match reason {
        Reason::Inline(t) => t,
        Reason::Payload => payload().unwrap_or_else(|bad| Term::binary(bad.to_string())),
    }
}

/// Queues a frame for the peer (never blocking the reader).
fn reply(shared: &Shared, conn: &Conn, frame: Result<Frame, crate::term::EncodeError>) {
    match frame.and_then(Frame::finish) {
        Ok(frame) => conn.send(frame, false, shared.opts.busy_limit),
        Err(e) => crate::report::error(format_args!("cannot encode a reply frame: {e}")),
    }
}

/// Passes a signal to the proxy for `target`, spawning one if `spawn` and
/// there is none. Returns whether a proxy got it.
pub(crate) fn to_proxy(shared: &Arc<Shared>, target: Target, spawn: bool, msg: ProxyMsg) -> bool {
    let mut proxies = shared.proxies.lock();
    if let Some(proxy) = proxies.by_target.get(&target) {
        proxy.addr.send(msg);
        return true;
    }
    if !spawn {
        return false;
    }
    let proxy = spawn_proxy(shared, &mut proxies, target);
    proxy.addr.send(msg);
    true
}

/// Spawns the proxy for `target` (the caller holds the table lock).
pub(crate) fn spawn_proxy(
    shared: &Arc<Shared>,
    proxies: &mut crate::proxy::Proxies,
    target: Target,
) -> ProxyHandle {
    let inbound = Arc::new(parking_lot::Mutex::new(Inbound::default()));
    let addr = shared
        .rt
        .spawn_trapping(Proxy::new(shared, target.clone(), inbound.clone()));
    proxies.by_pid.insert(addr.pid(), target.clone());
    let handle = ProxyHandle { addr, inbound };
    proxies.by_target.insert(target, handle.clone());
    handle
}

fn deliver_named(
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    from: &RemotePid,
    name: &Atom,
    msg: Result<Term, BadMessage>,
) {
    if name.as_str() == "net_kernel" {
        net_kernel(shared, conn, from, msg);
        return;
    }
    shared.deliver_name(name, Some(from), msg);
}

/// The part of Erlang's `net_kernel` other nodes talk to: the `is_auth`
/// call `net_adm:ping/1` makes, answered `yes`.
fn net_kernel(
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    from: &RemotePid,
    msg: Result<Term, BadMessage>,
) {
    let Ok(msg) = msg else {
        return;
    };
    if let Some([caller, request]) = msg.tagged("$gen_call") {
        if request.tagged("is_auth").is_some() {
            let me = shared.remote_pid(shared.kernel_pid());
            if let Some(frame) = crate::call::reply_frame(&me, caller, Term::atom("yes")) {
                reply(shared, conn, Ok(frame));
            }
            return;
        }
    }
    log::debug!(
        "message from {from} to net_kernel ignored: {}",
        msg.display_bounded(200)
    );
}

impl Shared {
    /// Delivers a message to a registered name of this node: to the
    /// holder's own sink if it has one, else to the name's sink.
    pub(crate) fn deliver_name(
        &self,
        name: &Atom,
        from: Option<&RemotePid>,
        msg: Result<Term, BadMessage>,
    ) {
        let holder = self.rt.whereis(name.as_str());
        if let Some(pid) = holder {
            if self.sinks.read().contains_key(&pid) {
                self.deliver_to(pid, from, msg);
                return;
            }
        }
        let named = self.named_sinks.read().get(name).cloned();
        match (named, holder) {
            (Some(sink), _) => {
                sink.deliver(from, msg);
            }
            (None, Some(pid)) => self.deliver_to(pid, from, msg),
            (None, None) => log::debug!("message to unregistered name {name} dropped"),
        }
    }

    /// Delivers a message to a pid of this node.
    pub(crate) fn deliver(
        &self,
        to: &RemotePid,
        from: Option<&RemotePid>,
        msg: Result<Term, BadMessage>,
    ) {
        match self.local_pid(to) {
            Some(pid) => self.deliver_to(pid, from, msg),
            None => log::debug!("message to {to} (not of this incarnation) dropped"),
        }
    }

    /// Delivers a message to local process `pid`: to a call waiting for
    /// it (an old-style `{Ref, Reply}`), or through the process's sink.
    pub(crate) fn deliver_to(
        &self,
        pid: Pid,
        from: Option<&RemotePid>,
        msg: Result<Term, BadMessage>,
    ) {
        let msg = match msg {
            Ok(Term::Tuple(t)) => match crate::call::take_plain_reply(self, t) {
                Ok(()) => return,
                Err(t) => Ok(Term::Tuple(t)),
            },
            other => other,
        };
        let sink = self.sinks.read().get(&pid).cloned();
        match sink {
            Some(sink) => {
                if !sink.deliver(from, msg) {
                    self.sinks.write().remove(&pid);
                }
            }
            None => log::debug!(
                "message to {pid}, which does not take messages from other nodes, dropped"
            ),
        }
    }
}
