//! The node's own process: sends and calls made from outside any process
//! carry its pid, as Erlang's shell or `net_kernel` would be named in
//! theirs.

use rotp_runtime::{Context, ExitReason, Pid, Process};

/// Other nodes cannot reach it (it has no sink), and it traps exits: a
/// remote server that links to a plain thread's caller must not take it
/// down. The node's stop (its one message, `()`) and the runtime's
/// shutdown end it.
pub(crate) struct Kernel;

impl Process for Kernel {
    type Message = ();

    fn handle(&mut self, (): (), ctx: &mut Context<'_, ()>) {
        ctx.exit(ExitReason::Shutdown);
    }

    fn handle_exit(&mut self, from: Pid, reason: ExitReason, ctx: &mut Context<'_, ()>) {
        if from.is_root() {
            ctx.exit(reason);
        }
    }
}
