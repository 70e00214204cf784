//! Links, monitors and exit signals across nodes, for a running process.

use rotp_runtime::{Context, ExitReason, MonitorRef, Pid};

use crate::dest::Dest;
use crate::node::Node;
use crate::proxy::{ProxyMsg, Target};
use crate::reason::reason_to_term;
use crate::router::spawn_proxy;
use crate::term::RemotePid;

impl Node {
    /// Links the running process with a process of another node
    /// (`link/1`). Returns the local pid that stands for it: exits from the
    /// remote process arrive from that pid (see
    /// [`remote_of`](Node::remote_of)). If the connection is lost, the
    /// process gets an exit `noconnection`. A pid of this node is linked
    /// directly.
    ///
    /// ```no_run
    /// # use rotp_dist::{Node, RemotePid};
    /// # use rotp_runtime::{Context, ExitReason, Pid};
    /// # fn f(node: &Node, ctx: &mut Context<'_, ()>, remote: &RemotePid) {
    /// ctx.trap_exit(true);
    /// let stands_for = node.link(ctx, remote);
    /// // later, in handle_exit(from, reason): from == stands_for
    /// # }
    /// ```
    pub fn link<M: Send + 'static>(&self, ctx: &mut Context<'_, M>, pid: &RemotePid) -> Pid {
        let shared = &self.shared;
        if let Some(local) = shared.local_pid(pid) {
            let _ = ctx.link(local);
            return local;
        }
        let mut proxies = shared.proxies.lock();
        let target = Target::Pid(pid.clone());
        let proxy = match proxies.by_target.get(&target) {
            Some(p) => p.addr.clone(),
            None => spawn_proxy(shared, &mut proxies, target).addr,
        };
        let _ = ctx.link(proxy.pid());
        proxy.send(ProxyMsg::Link(ctx.pid()));
        proxy.pid()
    }

    /// Removes the running process's link with a process of another node
    /// (`unlink/1`), if any.
    pub fn unlink<M: Send + 'static>(&self, ctx: &mut Context<'_, M>, pid: &RemotePid) {
        let shared = &self.shared;
        if let Some(local) = shared.local_pid(pid) {
            ctx.unlink(local);
            return;
        }
        let proxies = shared.proxies.lock();
        if let Some(proxy) = proxies.by_target.get(&Target::Pid(pid.clone())) {
            ctx.unlink(proxy.addr.pid());
            proxy.addr.send(ProxyMsg::Unlink(ctx.pid()));
        }
    }

    /// Monitors a process of another node, by pid or `(name, node)`
    /// (`monitor(process, ...)`). The `Down` comes from the local pid that
    /// stands for it, with the remote exit reason, `noproc` if it did not
    /// exist, or `noconnection` if the connection is lost. A destination
    /// on this node is monitored directly.
    pub fn monitor<M: Send + 'static>(
        &self,
        ctx: &mut Context<'_, M>,
        target: impl Into<Dest>,
    ) -> MonitorRef {
        let shared = &self.shared;
        let target = target.into();
        if *target.node() == shared.name {
            return match &target {
                Dest::Pid(p) => ctx.monitor(shared.local_pid(p).unwrap_or(Pid::ROOT)),
                Dest::Name { name, .. } => ctx.monitor_name(name.as_str()),
            };
        }
        let target = match target {
            Dest::Pid(p) => Target::Pid(p),
            Dest::Name { name, node } => Target::Name(name, node),
        };
        let mut proxies = shared.proxies.lock();
        let proxy = match proxies.by_target.get(&target) {
            Some(p) => p.addr.clone(),
            None => spawn_proxy(shared, &mut proxies, target).addr,
        };
        let mref = ctx.monitor(proxy.pid());
        shared.monitor_index.lock().insert(mref, proxy.clone());
        proxy.send(ProxyMsg::Monitor {
            watcher: ctx.pid(),
            mref,
        });
        mref
    }

    /// Removes a monitor made with [`monitor`](Node::monitor); returns what
    /// [`Context::demonitor`] returns.
    pub fn demonitor<M: Send + 'static>(&self, ctx: &mut Context<'_, M>, mref: MonitorRef) -> bool {
        let active = ctx.demonitor(mref);
        if let Some(proxy) = self.shared.monitor_index.lock().remove(&mref) {
            proxy.send(ProxyMsg::Demonitor {
                watcher: ctx.pid(),
                mref,
            });
        }
        active
    }

    /// Sends an exit signal to a process of another node, from the
    /// running process (`exit/2`).
    pub fn exit<M: Send + 'static>(
        &self,
        ctx: &mut Context<'_, M>,
        pid: &RemotePid,
        reason: &ExitReason,
    ) {
        let shared = &self.shared;
        if let Some(local) = shared.local_pid(pid) {
            ctx.send_exit(local, reason.clone());
            return;
        }
        let mut proxies = shared.proxies.lock();
        let target = Target::Pid(pid.clone());
        let proxy = match proxies.by_target.get(&target) {
            Some(p) => p.addr.clone(),
            None => spawn_proxy(shared, &mut proxies, target).addr,
        };
        proxy.send(ProxyMsg::Exit2 {
            from: ctx.pid(),
            reason: reason_to_term(reason),
        });
    }

    /// The remote process (or name) a local proxy pid stands for: what an
    /// `EXIT` or `Down` from that pid is about.
    pub fn remote_of(&self, pid: Pid) -> Option<Dest> {
        let proxies = self.shared.proxies.lock();
        proxies.by_pid.get(&pid).map(|t| match t {
            Target::Pid(p) => Dest::Pid(p.clone()),
            Target::Name(name, node) => Dest::Name {
                name: name.clone(),
                node: node.clone(),
            },
        })
    }
}
