//! Proxies: local processes that stand for processes of other nodes.
//!
//! Links and monitors in the runtime are between local processes. A link
//! or monitor that crosses nodes is therefore made with a proxy: one local
//! process per remote process (or remote registered name) that has
//! relations with this node. The proxy keeps the protocol state of each
//! relation and turns signals into frames and frames into signals:
//!
//! ```text
//!  local P ──runtime link──► proxy(R) ──LINK/EXIT frames──► remote R
//!  local P ──runtime monitor─► proxy(R) ──MONITOR_P──► remote R
//!                              proxy(R) ◄──MONITOR_P_EXIT── (R exited)
//!                              fire_monitor: P gets Down{proxy, reason}
//! ```
//!
//! - A remote exit over a link reaches P as an exit signal from the proxy;
//!   a remote `DOWN` fires P's monitor on the proxy (`fire_monitor`) while
//!   the proxy lives on for the other relations.
//! - When the connection is lost the proxy exits with `noconnection`, and
//!   the runtime's own machinery gives every linked process its `EXIT` and
//!   every monitor its `DOWN`.
//! - The monitors the target holds on local processes live in a table the
//!   connection's reader updates itself: a remote `gen_server:call`, which
//!   monitors and demonitors its server once per call, costs no message to
//!   the proxy once the proxy watches that server.
//! - Every few seconds a proxy looks whether it still stands for anything
//!   and retires if not; so the pid an `EXIT` or `DOWN` came from can still
//!   be resolved with `Node::remote_of` while it is handled. It retires
//!   under the node's proxy table lock and only with an empty mailbox, so
//!   nobody can reach it between its decision and its exit (relations are
//!   added under the same lock).
//!
//! Links follow OTP's link protocol with unlink ids: an `UNLINK_ID` makes
//! the link inactive until its acknowledgement, and exit signals meanwhile
//! are ignored.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use rotp_runtime::{Context, Down, ExitReason, MonitorRef, Pid, Process};

use crate::control::{Frame, ProcRef};
use crate::node::Shared;
use crate::reason::{exit_reason_from_term, noconnection, reason_to_term};
use crate::term::{Atom, RemotePid, RemoteRef, Term};

/// What a proxy stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Pid(RemotePid),
    /// A registered name on a node: `{Name, Node}`.
    Name(Atom, Atom),
}

impl Target {
    pub(crate) fn node(&self) -> &Atom {
        match self {
            Target::Pid(p) => &p.node,
            Target::Name(_, node) => node,
        }
    }

    fn proc_ref(&self) -> ProcRef {
        match self {
            Target::Pid(p) => ProcRef::Pid(p.clone()),
            Target::Name(n, _) => ProcRef::Name(n.clone()),
        }
    }
}

pub(crate) enum ProxyMsg {
    /// Local `P` linked itself to the proxy and wants the remote link.
    Link(Pid),
    /// Local `P` unlinked itself from the proxy.
    Unlink(Pid),
    /// Local `watcher` monitors the proxy with `mref`.
    Monitor {
        watcher: Pid,
        mref: MonitorRef,
    },
    /// Local `watcher` dropped monitor `mref`.
    Demonitor {
        watcher: Pid,
        mref: MonitorRef,
    },
    /// Local `from` sends `exit(Target, reason)`.
    Exit2 {
        from: Pid,
        reason: Term,
    },
    RemoteLink {
        to: Pid,
    },
    RemoteUnlink {
        id: Option<u64>,
        to: Pid,
    },
    RemoteUnlinkAck {
        id: u64,
        to: Pid,
    },
    RemoteExit {
        to: Pid,
        reason: Term,
    },
    RemoteExit2 {
        to: Pid,
        reason: Term,
    },
    /// The target monitors local `Pid` (its monitors are in the shared
    /// [`Inbound`] table): the proxy watches the process.
    WatchLocal(Pid),
    RemoteDown {
        mref: RemoteRef,
        reason: Term,
    },
    /// The connection to the target's node is lost.
    ConnectionLost,
    /// Time to retire, if still idle.
    Retire,
}

/// How often a proxy looks whether it can retire (so an idle proxy lingers
/// between one and two of these).
const LINGER: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkState {
    Active,
    /// This side sent `UNLINK_ID` with this id and awaits the ack.
    Unlinking(u64),
}

/// A monitor a local process holds on the target.
struct OutMonitor {
    watcher: Pid,
    mref: MonitorRef,
}

/// The monitors the target holds on local processes, shared between the
/// proxy and the connection's reader: the reader adds and removes the
/// monitors of a process the proxy already watches without a message to
/// the proxy (a remote `gen_server:call` makes and drops one per call), and
/// the proxy makes one runtime monitor per watched process.
///
/// Lock order: the node's proxy table, then this.
#[derive(Default)]
pub(crate) struct Inbound {
    locals: HashMap<Pid, Watched>,
    by_ref: HashMap<RemoteRef, Pid>,
}

struct Watched {
    /// The proxy's runtime monitor on the process, once made.
    mref: Option<MonitorRef>,
    /// The target's monitors on it, with the name it was monitored by.
    refs: Vec<(RemoteRef, Option<Atom>)>,
}

impl Inbound {
    /// Records that the target monitors `local` with `mref` (by `named`,
    /// if by name). Returns true if the proxy must start watching
    /// `local`.
    pub(crate) fn add(&mut self, local: Pid, mref: RemoteRef, named: Option<Atom>) -> bool {
        self.by_ref.insert(mref.clone(), local);
        match self.locals.get_mut(&local) {
            Some(w) => {
                w.refs.push((mref, named));
                false
            }
            None => {
                self.locals.insert(
                    local,
                    Watched {
                        mref: None,
                        refs: vec![(mref, named)],
                    },
                );
                true
            }
        }
    }

    /// The target dropped monitor `mref`.
    pub(crate) fn remove(&mut self, mref: &RemoteRef) {
        if let Some(local) = self.by_ref.remove(mref) {
            if let Some(w) = self.locals.get_mut(&local) {
                w.refs.retain(|(r, _)| r != mref);
            }
        }
    }
}

/// A proxy as the node's table holds it.
#[derive(Clone)]
pub(crate) struct ProxyHandle {
    pub(crate) addr: rotp_runtime::Addr<ProxyMsg>,
    pub(crate) inbound: Arc<Mutex<Inbound>>,
}

pub(crate) struct Proxy {
    shared: Weak<Shared>,
    target: Target,
    links: HashMap<Pid, LinkState>,
    out: HashMap<RemoteRef, OutMonitor>,
    out_by_mref: HashMap<MonitorRef, RemoteRef>,
    /// The proxy's monitors on watchers, to drop their monitors when they
    /// exit: watcher → (the proxy's mref, how many monitors it holds).
    watchers: HashMap<Pid, (MonitorRef, usize)>,
    watcher_mrefs: HashMap<MonitorRef, Pid>,
    inbound: Arc<Mutex<Inbound>>,
    /// The proxy's runtime monitors on watched local processes.
    watching: HashMap<MonitorRef, Pid>,
    next_unlink: u64,
}

impl Proxy {
    pub(crate) fn new(shared: &Arc<Shared>, target: Target, inbound: Arc<Mutex<Inbound>>) -> Proxy {
        Proxy {
            shared: Arc::downgrade(shared),
            target,
            links: HashMap::new(),
            out: HashMap::new(),
            out_by_mref: HashMap::new(),
            watchers: HashMap::new(),
            watcher_mrefs: HashMap::new(),
            inbound,
            watching: HashMap::new(),
            next_unlink: 0,
        }
    }

    fn remote_pid(&self) -> Option<&RemotePid> {
        match &self.target {
            Target::Pid(p) => Some(p),
            Target::Name(..) => None,
        }
    }

    /// Queues a frame for the target's node.
    fn send(&self, shared: &Shared, frame: Result<Frame, crate::term::EncodeError>) {
        match frame.and_then(Frame::finish) {
            Ok(frame) => shared.send_frame_to(self.target.node(), frame, false),
            Err(e) => crate::report::error(format_args!(
                "proxy for {:?}: cannot encode a frame: {e}",
                self.target
            )),
        }
    }

    fn watch(&mut self, ctx: &mut Context<'_, ProxyMsg>, watcher: Pid) {
        if let Some((_, count)) = self.watchers.get_mut(&watcher) {
            *count += 1;
            return;
        }
        let m = ctx.monitor(watcher);
        self.watchers.insert(watcher, (m, 1));
        self.watcher_mrefs.insert(m, watcher);
    }

    fn unwatch(&mut self, ctx: &mut Context<'_, ProxyMsg>, watcher: Pid) {
        if let Some((m, count)) = self.watchers.get_mut(&watcher) {
            *count -= 1;
            if *count == 0 {
                let m = *m;
                ctx.demonitor(m);
                self.watchers.remove(&watcher);
                self.watcher_mrefs.remove(&m);
            }
        }
    }

    fn idle(&self) -> bool {
        self.links.is_empty() && self.out.is_empty() && self.inbound.lock().by_ref.is_empty()
    }

    /// Retires if idle and nothing waits in the mailbox; else looks again
    /// after [`LINGER`]. Under the node's proxy table lock, so that no
    /// relation can be added between the decision and the exit.
    fn retire(&mut self, shared: &Shared, ctx: &mut Context<'_, ProxyMsg>) {
        let mut proxies = shared.proxies.lock();
        if !self.idle() || ctx.mailbox_len() > 0 {
            drop(proxies);
            ctx.send_after_self(LINGER, ProxyMsg::Retire);
            return;
        }
        if proxies.by_target.get(&self.target).map(|h| h.addr.pid()) == Some(ctx.pid()) {
            proxies.by_target.remove(&self.target);
        }
        proxies.by_pid.remove(&ctx.pid());
        drop(proxies);
        ctx.exit(ExitReason::Normal);
    }

    fn on_message(&mut self, shared: &Shared, msg: ProxyMsg, ctx: &mut Context<'_, ProxyMsg>) {
        match msg {
            ProxyMsg::Link(p) => {
                let Some(remote) = self.remote_pid().cloned() else {
                    return;
                };
                if self.links.get(&p) != Some(&LinkState::Active) {
                    self.links.insert(p, LinkState::Active);
                    let frame = Frame::link(&shared.remote_pid(p), &remote);
                    self.send(shared, frame);
                }
            }
            ProxyMsg::Unlink(p) => {
                let Some(remote) = self.remote_pid().cloned() else {
                    return;
                };
                if self.links.get(&p) == Some(&LinkState::Active) {
                    self.next_unlink += 1;
                    let id = self.next_unlink;
                    self.links.insert(p, LinkState::Unlinking(id));
                    let frame = Frame::unlink_id(id, &shared.remote_pid(p), &remote);
                    self.send(shared, frame);
                }
            }
            ProxyMsg::Monitor { watcher, mref } => {
                let remote = shared.make_ref();
                let frame = Frame::monitor(
                    &shared.remote_pid(watcher),
                    &self.target.proc_ref(),
                    &remote,
                );
                self.send(shared, frame);
                self.out
                    .insert(remote.clone(), OutMonitor { watcher, mref });
                self.out_by_mref.insert(mref, remote);
                self.watch(ctx, watcher);
            }
            ProxyMsg::Demonitor { watcher, mref } => {
                if let Some(remote) = self.out_by_mref.remove(&mref) {
                    self.out.remove(&remote);
                    let frame = Frame::demonitor(
                        &shared.remote_pid(watcher),
                        &self.target.proc_ref(),
                        &remote,
                    );
                    self.send(shared, frame);
                    self.unwatch(ctx, watcher);
                }
            }
            ProxyMsg::Exit2 { from, reason } => {
                if let Some(remote) = self.remote_pid() {
                    let frame = Frame::exit2(&shared.remote_pid(from), remote, &reason);
                    self.send(shared, frame);
                }
            }
            ProxyMsg::RemoteLink { to } => {
                if self.links.contains_key(&to) {
                    return; // active already, or our unlink is in flight
                }
                self.links.insert(to, LinkState::Active);
                // Trapping exits, the proxy gets EXIT(to, noproc) if `to`
                // is gone, and passes it on.
                let _ = ctx.link(to);
            }
            ProxyMsg::RemoteUnlink { id, to } => {
                if self.links.get(&to) == Some(&LinkState::Active) {
                    self.links.remove(&to);
                    ctx.unlink(to);
                }
                if let (Some(id), Some(remote)) = (id, self.remote_pid()) {
                    let frame = Frame::unlink_id_ack(id, &shared.remote_pid(to), remote);
                    self.send(shared, frame);
                }
            }
            ProxyMsg::RemoteUnlinkAck { id, to } => {
                if self.links.get(&to) == Some(&LinkState::Unlinking(id)) {
                    self.links.remove(&to);
                }
            }
            ProxyMsg::RemoteExit { to, reason } => {
                if self.links.get(&to) == Some(&LinkState::Active) {
                    self.links.remove(&to);
                    ctx.unlink(to);
                    ctx.send_exit(to, exit_reason_from_term(&reason));
                }
            }
            ProxyMsg::RemoteExit2 { to, reason } => {
                if reason.is_atom("kill") {
                    ctx.kill(to);
                } else {
                    ctx.send_exit(to, exit_reason_from_term(&reason));
                }
            }
            ProxyMsg::WatchLocal(local) => {
                let m = ctx.monitor(local);
                let mut inbound = self.inbound.lock();
                match inbound.locals.get_mut(&local) {
                    Some(w) if w.mref.is_none() => {
                        w.mref = Some(m);
                        self.watching.insert(m, local);
                    }
                    _ => {
                        drop(inbound);
                        ctx.demonitor(m);
                    }
                }
            }
            ProxyMsg::RemoteDown { mref, reason } => {
                if let Some(mon) = self.out.remove(&mref) {
                    self.out_by_mref.remove(&mon.mref);
                    shared.monitor_index.lock().remove(&mon.mref);
                    ctx.fire_monitor(mon.mref, exit_reason_from_term(&reason));
                    self.unwatch(ctx, mon.watcher);
                }
            }
            ProxyMsg::ConnectionLost => self.lost(shared, ctx),
            ProxyMsg::Retire => self.retire(shared, ctx),
        }
    }

    /// The connection is gone: exit `noconnection`, which the runtime
    /// passes to every linked process and every monitor.
    fn lost(&mut self, shared: &Shared, ctx: &mut Context<'_, ProxyMsg>) {
        {
            let mut index = shared.monitor_index.lock();
            for mref in self.out_by_mref.keys() {
                index.remove(mref);
            }
        }
        let mut proxies = shared.proxies.lock();
        if proxies.by_target.get(&self.target).map(|h| h.addr.pid()) == Some(ctx.pid()) {
            proxies.by_target.remove(&self.target);
        }
        proxies.by_pid.remove(&ctx.pid());
        drop(proxies);
        self.exit_lost(ctx);
    }

    /// Exits `noconnection`. Losing a node is no crash of the proxy, which
    /// only stands for the remote process: its own report, at info level,
    /// replaces the runtime's crash report (`Context::report_exit`).
    fn exit_lost(&self, ctx: &mut Context<'_, ProxyMsg>) {
        let report = rotp_runtime::Report::info(
            rotp_runtime::ReportKind::Runtime,
            format_args!(
                "proxy {} for {:?}: the connection to its node is lost",
                ctx.pid(),
                self.target
            ),
        )
        .pid(ctx.pid())
        .reason(&noconnection());
        ctx.report_exit(&report);
        ctx.exit(noconnection());
    }
}

impl Process for Proxy {
    type Message = ProxyMsg;

    fn init(&mut self, ctx: &mut Context<'_, ProxyMsg>) {
        ctx.send_after_self(LINGER, ProxyMsg::Retire);
    }

    fn handle(&mut self, msg: ProxyMsg, ctx: &mut Context<'_, ProxyMsg>) {
        let Some(shared) = self.shared.upgrade() else {
            self.exit_lost(ctx);
            return;
        };
        self.on_message(&shared, msg, ctx);
    }

    /// A linked local process exited: tell the remote end.
    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, ProxyMsg>) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        if from.is_root() {
            // The runtime is shutting down.
            ctx.exit(reason);
            return;
        }
        match self.links.remove(&from) {
            Some(LinkState::Active) => {
                if let Some(remote) = self.remote_pid() {
                    let frame =
                        Frame::exit(&shared.remote_pid(from), remote, &reason_to_term(&reason));
                    self.send(&shared, frame);
                }
            }
            Some(LinkState::Unlinking(_)) | None => {}
        }
    }

    fn handle_down(&mut self, down: Down, _ctx: &mut Context<'_, ProxyMsg>) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        if let Some(local) = self.watching.remove(&down.mref) {
            // A local process the remote monitors exited: every monitor
            // the target holds on it fires.
            let watched = {
                let mut inbound = self.inbound.lock();
                let watched = inbound.locals.remove(&local);
                if let Some(w) = &watched {
                    for (r, _) in &w.refs {
                        inbound.by_ref.remove(r);
                    }
                }
                watched
            };
            if let (Some(w), Some(remote)) = (watched, self.remote_pid()) {
                let reason = reason_to_term(&down.reason);
                for (r, named) in w.refs {
                    let from = match named {
                        Some(name) => ProcRef::Name(name),
                        None => ProcRef::Pid(shared.remote_pid(local)),
                    };
                    let frame = Frame::monitor_exit(&from, remote, &r, &reason);
                    self.send(&shared, frame);
                }
            }
        } else if let Some(watcher) = self.watcher_mrefs.remove(&down.mref) {
            // A local watcher exited: its monitors on the target go.
            self.watchers.remove(&watcher);
            let gone: Vec<RemoteRef> = self
                .out
                .iter()
                .filter(|(_, m)| m.watcher == watcher)
                .map(|(r, _)| r.clone())
                .collect();
            let mut index = shared.monitor_index.lock();
            for remote in gone {
                if let Some(mon) = self.out.remove(&remote) {
                    self.out_by_mref.remove(&mon.mref);
                    index.remove(&mon.mref);
                    let frame = Frame::demonitor(
                        &shared.remote_pid(watcher),
                        &self.target.proc_ref(),
                        &remote,
                    );
                    self.send(&shared, frame);
                }
            }
        }
    }
}

/// The node's table of proxies.
#[derive(Default)]
pub(crate) struct Proxies {
    pub(crate) by_target: HashMap<Target, ProxyHandle>,
    pub(crate) by_pid: HashMap<Pid, Target>,
}
