//! The node's own process: it names sends from outside any process, and it
//! forgets the sinks of processes that exit.

use std::sync::Weak;

use rotp_runtime::{Context, Down, Pid, Process};

use crate::node::Shared;

pub(crate) enum KernelMsg {
    /// Forget `pid`'s sink when it exits.
    Watch(Pid),
}

pub(crate) struct Kernel {
    pub(crate) shared: Weak<Shared>,
}

impl Process for Kernel {
    type Message = KernelMsg;

    fn handle(&mut self, msg: KernelMsg, ctx: &mut Context<'_, KernelMsg>) {
        match msg {
            KernelMsg::Watch(pid) => {
                ctx.monitor(pid);
            }
        }
    }

    fn handle_down(&mut self, down: Down, _ctx: &mut Context<'_, KernelMsg>) {
        if let Some(shared) = self.shared.upgrade() {
            shared.sinks.write().remove(&down.pid);
        }
    }
}
