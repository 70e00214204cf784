//! The gen_server protocol as other nodes speak it: `GenServer.call` sends
//! `{'$gen_call', {Pid, Tag}, Request}`, `GenServer.cast` sends
//! `{'$gen_cast', Request}`, and the reply `{Tag, Reply}` goes to the
//! tag's alias (OTP 24 and later: `Tag = [alias | Ref]`) or to the
//! caller's pid (older callers).

use std::fmt;

use crate::node::Node;
use crate::term::{FromTerm, FromTermError, RemotePid, Term, ToTerm};

/// Whom to answer for a call from another node: OTP's `From`.
///
/// ```no_run
/// # use rotp_dist::{GenMessage, Node, Term};
/// # fn f(node: Node, rt: rotp_runtime::Runtime) {
/// let n = node.clone();
/// let server = rt.spawn_fn(move |m: GenMessage<Term>, _ctx| {
///     if let GenMessage::Call { request, from } = m {
///         from.reply(&n, (Term::atom("you_said"), request));
///     }
/// });
/// node.register("echo_server", &server).unwrap();
/// // Elixir: GenServer.call({:echo_server, :"rotp@127.0.0.1"}, :hi)
/// //         #=> {:you_said, :hi}
/// # }
/// ```
#[derive(Clone, PartialEq)]
pub struct GenFrom {
    pid: RemotePid,
    /// `{Pid, Tag}`, as it arrived.
    from: Term,
}

impl GenFrom {
    /// Reads a `{Pid, Tag}`.
    pub fn from_term(from: &Term) -> Option<GenFrom> {
        match from.as_tuple()? {
            [Term::Pid(pid), _tag] => Some(GenFrom {
                pid: pid.clone(),
                from: from.clone(),
            }),
            _ => None,
        }
    }

    /// The calling process.
    pub fn pid(&self) -> &RemotePid {
        &self.pid
    }

    /// Answers the call (`gen_server:reply/2`), from the running process
    /// (or the node's own process outside any). Returns false if the reply
    /// could not be encoded.
    pub fn reply(&self, node: &Node, value: impl ToTerm) -> bool {
        let me = node.shared.sender();
        self.reply_as(node, &me, value.to_term())
    }

    pub(crate) fn reply_as(&self, node: &Node, me: &RemotePid, value: Term) -> bool {
        node.shared.reply(me, &self.from, value)
    }
}

impl fmt::Debug for GenFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GenFrom({})", self.from)
    }
}

/// What gen_server clients on other nodes send a server: a call, a cast,
/// or any other message. A process that serves Erlang and Elixir clients
/// takes these (see [`GenFrom`]); `C` and `K` are the types its requests
/// convert to.
#[derive(Debug, Clone, PartialEq)]
pub enum GenMessage<C = Term, K = Term> {
    /// `GenServer.call(server, request)`: answer through `from`.
    Call {
        /// The request.
        request: C,
        /// Whom to answer.
        from: GenFrom,
    },
    /// A call whose request does not convert to `C`: answer it anyway
    /// (an error reply), or the caller waits for its timeout.
    BadCall {
        /// The request as it arrived.
        request: Term,
        /// Why it did not convert.
        error: FromTermError,
        /// Whom to answer.
        from: GenFrom,
    },
    /// `GenServer.cast(server, request)`.
    Cast(K),
    /// Anything else (`send(server, msg)`).
    Info(Term),
}

impl<C: FromTerm, K: FromTerm> FromTerm for GenMessage<C, K> {
    fn from_term(term: &Term) -> Result<Self, FromTermError> {
        if let Some(parts) = term.tagged("$gen_call") {
            if let [from, request] = parts {
                let from = GenFrom::from_term(from)
                    .ok_or_else(|| FromTermError::expected("a {Pid, Tag} caller", from))?;
                return Ok(match C::from_term(request) {
                    Ok(request) => GenMessage::Call { request, from },
                    Err(error) => GenMessage::BadCall {
                        request: request.clone(),
                        error,
                        from,
                    },
                });
            }
        } else if let Some([request]) = term.tagged("$gen_cast") {
            return K::from_term(request)
                .map(GenMessage::Cast)
                .map_err(|e| e.within("cast"));
        }
        Ok(GenMessage::Info(term.clone()))
    }
}
