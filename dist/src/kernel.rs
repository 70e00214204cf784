//! The node's own process: sends from outside any process carry its pid,
//! as Erlang's shell or `net_kernel` would be named in theirs.

use rotp_runtime::{Context, Process};

/// It receives nothing; messages to it from other nodes are dropped.
pub(crate) struct Kernel;

impl Process for Kernel {
    type Message = ();

    fn handle(&mut self, _msg: (), _ctx: &mut Context<'_, ()>) {}
}
