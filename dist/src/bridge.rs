//! GenServers other nodes call: the bridge between Erlang's gen_server
//! protocol and a rotp [`GenServer`].
//!
//! A call from another node arrives as `{'$gen_call', From, Request}`. The
//! bridge asks the server type to turn `Request` into its `Call`, giving it
//! a [`RemoteReply`] that makes the request's reply port: a
//! [`ReplyTo<R>`](rotp_gen_server::ReplyTo) whose value is sent back to
//! the caller as a term. The call then goes to the server like any other,
//! so the server's code does not know where its caller is.

use std::sync::Arc;

use rotp_gen_server::{GenServer, ReplyTo, ServerRef};

use crate::gen::{GenFrom, GenMessage};
use crate::node::Node;
use crate::sink::Sink;
use crate::term::{Atom, BadMessage, FromTerm, FromTermError, RemotePid, Term, ToTerm};

/// A [`GenServer`] that serves calls, casts and messages from other
/// nodes: it says how their terms become its own requests.
///
/// ```
/// use rotp_dist::{FromTerm, FromTermError, RemoteReply, RemoteServer, Term};
/// use rotp_gen_server::{gen_server, noreply, Ctx, GenServer, Handled, Init, InitResult, ReplyTo};
///
/// struct Counter(i64);
///
/// enum Call {
///     Get(ReplyTo<i64>),
///     Add(i64, ReplyTo<i64>),
/// }
///
/// #[gen_server]
/// impl GenServer for Counter {
///     fn init(n: i64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Counter(n))
///     }
///     fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         match call {
///             Call::Get(r) => r.reply(self.0),
///             Call::Add(k, r) => {
///                 self.0 += k;
///                 r.reply(self.0)
///             }
///         }
///     }
///     fn handle_cast(&mut self, k: i64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         self.0 += k;
///         noreply()
///     }
/// }
///
/// impl RemoteServer for Counter {
///     // get -> Get, {add, K} -> Add(K)
///     fn remote_call(request: &Term, reply: RemoteReply) -> Result<Call, FromTermError> {
///         match request.tagged("add") {
///             Some([k]) => Ok(Call::Add(i64::from_term(k)?, reply.port())),
///             _ if request.is_atom("get") => Ok(Call::Get(reply.port())),
///             _ => Err(FromTermError::expected("get or {add, K}", request)),
///         }
///     }
///     fn remote_cast(request: &Term) -> Result<i64, FromTermError> {
///         i64::from_term(request)
///     }
/// }
/// ```
pub trait RemoteServer: GenServer {
    /// The server's call for `request`, which arrived from another node;
    /// `reply` makes the call's reply port ([`RemoteReply::port`]). An
    /// error answers the caller `{error, {bad_call, Request}}` (and is
    /// logged): the server is not involved.
    fn remote_call(request: &Term, reply: RemoteReply) -> Result<Self::Call, FromTermError>;

    /// The server's cast for `request` (`GenServer.cast`). An error drops
    /// the cast, with a warning. The default takes no casts.
    fn remote_cast(request: &Term) -> Result<Self::Cast, FromTermError> {
        Err(FromTermError::expected(
            "no cast (this server takes none from other nodes)",
            request,
        ))
    }

    /// The `handle_info` message for any other message (`send(server,
    /// msg)`). An error drops it, with a warning. The default takes none.
    fn remote_info(msg: &Term) -> Result<Self::Info, FromTermError> {
        Err(FromTermError::expected(
            "no message (this server takes none from other nodes)",
            msg,
        ))
    }
}

/// A GenServer's call enum, read from the request of a call from another
/// node: derive it (`#[derive(RemoteCall)]`) and
/// [`RemoteServer::remote_call`] is one line. Each variant is a tuple
/// variant ending with its [`ReplyTo`]; the fields before it are the
/// request's arguments, read like [`FromTerm`]'s enums: `Get(ReplyTo<i64>)`
/// takes `get`, `Add(i64, ReplyTo<i64>)` takes `{add, 5}`;
/// `#[term(rename = "...")]` renames.
///
/// ```
/// use rotp_dist::{RemoteCall, RemoteReply, Term};
/// use rotp_gen_server::ReplyTo;
///
/// #[derive(RemoteCall)]
/// enum Call {
///     Get(ReplyTo<i64>),
///     Add(i64, ReplyTo<i64>),
/// }
/// // In `impl RemoteServer for ...`:
/// fn remote_call(request: &Term, reply: RemoteReply) -> Result<Call, rotp_dist::FromTermError> {
///     Call::from_remote(request, reply)
/// }
/// ```
pub trait RemoteCall: Sized {
    /// The call for `request`, answering through `reply`.
    fn from_remote(request: &Term, reply: RemoteReply) -> Result<Self, FromTermError>;
}

/// The reply port maker of one call from another node; see
/// [`RemoteServer::remote_call`].
#[derive(Debug)]
pub struct RemoteReply {
    node: Node,
    from: GenFrom,
}

impl RemoteReply {
    /// The call's reply port, for a reply of type `R`: what the server
    /// replies through it goes back to the caller as a term.
    pub fn port<R: ToTerm + Send + 'static>(self) -> ReplyTo<R> {
        let RemoteReply { node, from } = self;
        // The reply comes from whoever sends it: the server, in its
        // handler.
        ReplyTo::from_fn(move |value: R| {
            from.reply(&node, value);
        })
    }

    /// The calling process, on its node.
    pub fn caller(&self) -> &RemotePid {
        self.from.pid()
    }
}

/// The sink of a served GenServer, by pid or by name.
struct ServerSink<G: RemoteServer> {
    server: ServerRef<G>,
    node: Node,
    /// How the logs name it.
    label: String,
}

impl<G: RemoteServer> Sink for ServerSink<G> {
    fn deliver(&self, _from: Option<&RemotePid>, arrival: Result<Term, BadMessage>) -> bool {
        let term = match arrival {
            Ok(t) => t,
            Err(bad) => {
                crate::report::warn(format_args!(
                    "{}: dropped a message from another node: {bad}",
                    self.label
                ));
                return self.server.is_alive();
            }
        };
        // Requests stay terms here: the server type converts them.
        let msg = match GenMessage::<Term, Term>::from_term(&term) {
            Ok(m) => m,
            Err(e) => {
                crate::report::warn(format_args!(
                    "{}: dropped a malformed gen_server message: {e}",
                    self.label
                ));
                return self.server.is_alive();
            }
        };
        match msg {
            GenMessage::Call { request, from } => {
                let reply = RemoteReply {
                    node: self.node.clone(),
                    from: from.clone(),
                };
                match G::remote_call(&request, reply) {
                    Ok(call) => {
                        // The request carries its own reply port; the one
                        // send_request makes is not used.
                        let sent = self.server.send_request::<()>(move |_unused| call);
                        if sent.is_err() {
                            log::debug!(
                                "{}: a call from {} found no server",
                                self.label,
                                from.pid()
                            );
                            return self.server.is_alive();
                        }
                    }
                    Err(e) => {
                        crate::report::warn(format_args!(
                            "{}: refused a call from {}: {e}",
                            self.label,
                            from.pid()
                        ));
                        let why = Term::tuple(vec![Term::atom("bad_call"), request]);
                        from.reply(&self.node, Term::tuple(vec![Term::atom("error"), why]));
                    }
                }
            }
            GenMessage::BadCall { .. } => unreachable!("a Term request always converts"),
            GenMessage::Cast(request) => match G::remote_cast(&request) {
                Ok(cast) => self.server.cast(cast),
                Err(e) => crate::report::warn(format_args!(
                    "{}: dropped a cast from another node: {e}",
                    self.label
                )),
            },
            GenMessage::Info(msg) => match G::remote_info(&msg) {
                Ok(info) => self.server.send_info(info),
                Err(e) => crate::report::warn(format_args!(
                    "{}: dropped a message from another node: {e}",
                    self.label
                )),
            },
        }
        self.server.is_alive()
    }

    fn is_alive(&self) -> bool {
        self.server.is_alive()
    }
}

impl Node {
    /// Lets other nodes call, cast and send to a GenServer: what arrives
    /// is converted by its [`RemoteServer`] implementation. Returns the
    /// pid other nodes know it by; a server started with a name is also
    /// reached as `{name, node}`
    /// (`GenServer.call({:counter, :"rotp@127.0.0.1"}, :get)`). `None` if
    /// the server is not running.
    ///
    /// The server is served by pid: a restarted server (a new process) must
    /// be served again. For a supervised server, serve its name instead
    /// ([`serve_named`](Node::serve_named)).
    pub fn serve<G: RemoteServer>(&self, server: &ServerRef<G>) -> Option<RemotePid> {
        let pid = server.pid()?;
        let server = ServerRef::<G>::from_pid(self.handle(), pid).ok()?;
        let me = self.pid_of(pid);
        let sink = ServerSink {
            server,
            node: self.clone(),
            label: me.to_string(),
        };
        self.shared.add_sink(pid, Arc::new(sink));
        Some(me)
    }

    /// Lets other nodes call, cast and send to the `G` server registered
    /// as `name`, whichever process holds the name when a message arrives:
    /// a supervisor's restarts are followed, and the server may start
    /// later. Messages that arrive while nobody holds the name are dropped
    /// (a call's caller gets `noproc` through its monitor).
    ///
    /// ```no_run
    /// # use rotp_dist::{FromTermError, Node, RemoteReply, RemoteServer, Term};
    /// # use rotp_gen_server::{gen_server, Ctx, GenServer, Init, InitResult};
    /// # struct Counter;
    /// # #[gen_server]
    /// # impl GenServer for Counter {
    /// #     fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> { Init::ok(Counter) }
    /// # }
    /// # impl RemoteServer for Counter {
    /// #     fn remote_call(t: &Term, _r: RemoteReply) -> Result<std::convert::Infallible, FromTermError> { Err(FromTermError::expected("nothing", t)) }
    /// # }
    /// # fn f(node: &Node) {
    /// node.serve_named::<Counter>("counter");
    /// // children started by a supervisor under that name are reached as
    /// // {counter, node}, restart after restart
    /// # }
    /// ```
    pub fn serve_named<G: RemoteServer>(&self, name: &str) {
        let sink = ServerSink {
            server: ServerRef::<G>::named(self.handle(), name),
            node: self.clone(),
            label: name.to_owned(),
        };
        self.shared
            .named_sinks
            .write()
            .insert(Atom::new(name), Arc::new(sink));
    }

    /// Stops serving the name `name` ([`serve_named`](Node::serve_named)).
    /// Returns whether it was served.
    pub fn stop_serving(&self, name: &str) -> bool {
        self.shared.named_sinks.write().remove(name).is_some()
    }
}
