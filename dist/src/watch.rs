//! Node monitoring: `net_kernel:monitor_nodes/1` and
//! `erlang:monitor_node/2`.

use std::collections::HashMap;
use std::fmt;

use rotp_runtime::Addr;

use crate::term::Atom;

/// Why a connection to a node was lost (Erlang's `nodedown_reason`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeDownReason {
    /// The connection could not be set up: no EPMD, no such node, a
    /// refused handshake, a wrong cookie.
    ConnectionSetupFailed,
    /// The peer closed the connection, or it broke.
    ConnectionClosed,
    /// Nothing arrived from the peer for a whole tick time.
    TickTimeout,
    /// This node disconnected it ([`Node::disconnect`](crate::Node::disconnect)).
    Disconnect,
    /// The peer connected again (it restarted) and replaced it.
    Replaced,
    /// This node stopped.
    Stopped,
}

impl fmt::Display for NodeDownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeDownReason::ConnectionSetupFailed => "connection_setup_failed",
            NodeDownReason::ConnectionClosed => "connection_closed",
            NodeDownReason::TickTimeout => "net_tick_timeout",
            NodeDownReason::Disconnect => "disconnect",
            NodeDownReason::Replaced => "replaced",
            NodeDownReason::Stopped => "net_kernel_terminated",
        })
    }
}

/// A node came up or went down: `{nodeup, Node}`, `{nodedown, Node}`.
///
/// A process that monitors nodes takes these through `From<NodeEvent>`
/// on its message type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
    /// A connection to the node is up.
    Up(Atom),
    /// The connection to the node is lost (or could not be made).
    Down(Atom, NodeDownReason),
}

/// The subscription [`Node::monitor_nodes`](crate::Node::monitor_nodes)
/// returns; hand it to [`Node::demonitor_nodes`](crate::Node::demonitor_nodes)
/// to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodesMonitor(pub(crate) u64);

type Notify = Box<dyn Fn(&NodeEvent) -> bool + Send>;

/// Who wants to hear about nodes.
#[derive(Default)]
pub(crate) struct Watchers {
    next: u64,
    /// Every up and down of every node.
    all: Vec<(u64, Notify)>,
    /// One `Down` each, per node.
    once: HashMap<Atom, Vec<Notify>>,
}

pub(crate) fn notifier<M: From<NodeEvent> + Send + 'static>(addr: &Addr<M>) -> Notify {
    let addr = addr.clone();
    Box::new(move |ev: &NodeEvent| addr.try_send(M::from(ev.clone())).is_ok() || addr.is_alive())
}

impl Watchers {
    pub(crate) fn add_all(&mut self, notify: Notify) -> NodesMonitor {
        self.next += 1;
        self.all.push((self.next, notify));
        NodesMonitor(self.next)
    }

    pub(crate) fn remove_all(&mut self, id: NodesMonitor) -> bool {
        let before = self.all.len();
        self.all.retain(|(i, _)| *i != id.0);
        self.all.len() != before
    }

    pub(crate) fn add_once(&mut self, node: Atom, notify: Notify) {
        self.once.entry(node).or_default().push(notify);
    }

    /// Tells the subscribers; `was_up` says whether subscribers to every
    /// node hear of a down (they heard no up for a failed setup).
    pub(crate) fn event(&mut self, ev: &NodeEvent, was_up: bool) {
        if let NodeEvent::Down(node, _) = ev {
            if let Some(once) = self.once.remove(node) {
                for notify in once {
                    notify(ev);
                }
            }
            if !was_up {
                return;
            }
        }
        self.all.retain(|(_, notify)| notify(ev));
    }
}
