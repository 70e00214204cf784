//! Local processes that take messages from other nodes.
//!
//! A rotp process has one Rust message type, so a term from another node
//! must be converted before it can be delivered; the node keeps, for each
//! process that accepts remote messages, a sink that does the conversion
//! and the send. Processes that never asked get nothing: a message to them
//! is dropped (and logged at debug level), as a message to a pid that
//! names no process is dropped in Erlang.

use rotp_runtime::{Addr, TrySendError};

use crate::term::{BadMessage, Inbound, RemotePid, Term};

/// Where messages for one local process go.
pub(crate) trait Sink: Send + Sync {
    /// Delivers one arrival; false if the process is gone (the node then
    /// forgets the sink).
    fn deliver(&self, from: Option<&RemotePid>, arrival: Result<Term, BadMessage>) -> bool;

    /// Whether the process still lives.
    fn is_alive(&self) -> bool;
}

/// The sink of a process whose message type converts from terms.
pub(crate) struct TypedSink<M> {
    pub(crate) addr: Addr<M>,
}

impl<M: Inbound> Sink for TypedSink<M> {
    fn deliver(&self, _from: Option<&RemotePid>, arrival: Result<Term, BadMessage>) -> bool {
        match M::inbound(arrival) {
            Ok(msg) => match self.addr.try_send(msg) {
                Ok(()) => true,
                Err(TrySendError::Exited(_)) => false,
                Err(TrySendError::Full(_)) => {
                    crate::report::warn(format_args!(
                        "{}: mailbox full, dropped a message from another node",
                        self.addr.pid()
                    ));
                    true
                }
            },
            Err(bad) => {
                crate::report::warn(format_args!(
                    "{}: dropped a message from another node it cannot take: {bad}",
                    self.addr.pid()
                ));
                self.addr.is_alive()
            }
        }
    }

    fn is_alive(&self) -> bool {
        self.addr.is_alive()
    }
}
