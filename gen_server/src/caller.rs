//! The caller of a `handle_call`, and replying later.

use std::fmt;

use rotp_runtime::{Pid, ReplySender};

/// The caller of the request being handled (OTP's `From`).
///
/// Most handlers ignore it and return [`Reply::reply`](crate::Reply::reply).
/// To answer later — after other messages, or from another thread — take a
/// [`DeferredReply`] with [`defer`](Caller::defer) and return
/// [`Reply::noreply`](crate::Reply::noreply).
pub struct Caller<R> {
    pid: Option<Pid>,
    reply: Option<ReplySender<R>>,
}

impl<R> Caller<R> {
    pub(crate) fn new(reply: ReplySender<R>) -> Self {
        Caller {
            pid: reply.caller(),
            reply: Some(reply),
        }
    }

    /// The calling process, or `None` for a call from a plain thread.
    pub fn pid(&self) -> Option<Pid> {
        self.pid
    }

    /// Takes the reply handle, to answer later with
    /// [`DeferredReply::reply`] (rule 73). Returns `None` if it was taken
    /// already.
    pub fn defer(&mut self) -> Option<DeferredReply<R>> {
        let reply = self.reply.take()?;
        Some(DeferredReply {
            pid: self.pid,
            reply,
        })
    }

    pub(crate) fn take(&mut self) -> Option<ReplySender<R>> {
        self.reply.take()
    }
}

impl<R> fmt::Debug for Caller<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller")
            .field("pid", &self.pid)
            .field("deferred", &self.reply.is_none())
            .finish()
    }
}

/// A reply owed to a caller, to be sent from anywhere: the server later,
/// another process, or a plain thread (`GenServer.reply/2`).
///
/// Dropping it unanswered leaves the caller to time out (rule 73).
pub struct DeferredReply<R> {
    pid: Option<Pid>,
    reply: ReplySender<R>,
}

impl<R> DeferredReply<R> {
    /// Sends the reply. Always "succeeds" (rule 67); returns whether the
    /// caller was still waiting.
    pub fn reply(self, value: R) -> bool {
        self.reply.send(value)
    }

    /// The calling process, or `None` for a call from a plain thread.
    pub fn pid(&self) -> Option<Pid> {
        self.pid
    }

    /// Whether the caller has given up (timed out).
    pub fn is_abandoned(&self) -> bool {
        self.reply.is_abandoned()
    }
}

impl<R> fmt::Debug for DeferredReply<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeferredReply")
            .field("pid", &self.pid)
            .finish()
    }
}

/// Sends a deferred reply: `GenServer.reply(from, value)`.
pub fn reply<R>(to: DeferredReply<R>, value: R) -> bool {
    to.reply(value)
}
