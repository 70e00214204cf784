//! Sending terms to processes of other nodes (and of this one).

use crate::control::Frame;
use crate::dest::Dest;
use crate::error::SendError;
use crate::node::Node;
use crate::term::{RemoteRef, ToTerm};

impl Node {
    /// Sends `msg` to a process of any node (`Dest ! Msg`): a pid, or
    /// `(name, node)`.
    ///
    /// Like Erlang's send it does not wait for the other node and does not
    /// fail when the process or its node is gone (the message is dropped);
    /// it connects to the node if needed. When the connection is busy (more
    /// than [`busy_limit`](crate::NodeBuilder::busy_limit) bytes queued) a
    /// sender waits for the writer to catch up, as BEAM suspends a process
    /// on a busy distribution port.
    ///
    /// ```no_run
    /// # use rotp_dist::{Node, Term};
    /// # fn f(node: &Node) -> Result<(), rotp_dist::SendError> {
    /// node.send(("shell", "erl@127.0.0.1"), (Term::atom("hello"), 42))?;
    /// # Ok(()) }
    /// ```
    pub fn send(&self, to: impl Into<Dest>, msg: impl ToTerm) -> Result<(), SendError> {
        let shared = &self.shared;
        let to = to.into();
        let me = shared.sender();
        let msg = msg.to_term();
        if *to.node() == shared.name {
            match &to {
                Dest::Pid(p) => shared.deliver(p, Some(&me), Ok(msg)),
                Dest::Name { name, .. } => shared.deliver_name(name, Some(&me), Ok(msg)),
            }
            return Ok(());
        }
        let frame = match &to {
            Dest::Pid(p) => Frame::send(&me, p, &msg),
            Dest::Name { name, .. } => Frame::reg_send(&me, name, &msg),
        }
        .and_then(Frame::finish)?;
        shared.send_frame_to(to.node(), frame, true);
        Ok(())
    }

    /// Sends `msg` to a process alias (`Alias ! Msg`, OTP 24).
    pub fn send_alias(&self, alias: &RemoteRef, msg: impl ToTerm) -> Result<(), SendError> {
        let shared = &self.shared;
        let me = shared.sender();
        let msg = msg.to_term();
        if alias.node == shared.name {
            crate::call::deliver_alias(shared, &me, alias, Ok(msg));
            return Ok(());
        }
        let frame = Frame::alias_send(&me, alias, &msg).and_then(Frame::finish)?;
        shared.send_frame_to(&alias.node, frame, true);
        Ok(())
    }
}
