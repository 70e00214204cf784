//! Erlang distribution for rotp: a runtime joins an Erlang/Elixir cluster
//! as a node.
//!
//! A [`Node`] gives a rotp [`Runtime`](rotp_runtime::Runtime) a node name
//! (`rotp@127.0.0.1`) and a cookie, registers it with EPMD, and speaks
//! OTP's own distribution protocol (the handshake of OTP 23 and later, the
//! external term format, ticks): Erlang and Elixir nodes connect to it,
//! send to its processes by pid or by `{name, node}`, call them with
//! `gen_server:call` / `GenServer.call`, link to them and monitor them; rotp
//! processes do the same the other way. No async: each connection has a
//! reader and a writer thread, and nothing a peer does blocks a scheduler
//! worker.
//!
//! Terms are plain Rust values ([`Term`]); [`ToTerm`] and [`FromTerm`]
//! (derivable) map Rust types to them:
//!
//! ```
//! use rotp_dist::{FromTerm, Term, ToTerm};
//!
//! #[derive(Debug, PartialEq, ToTerm, FromTerm)]
//! enum Request {
//!     Increment,          // increment
//!     Add(i64),           // {add, 5}
//!     Rename { to: String }, // {rename, #{to => <<"x">>}}
//! }
//!
//! let t = Request::Add(5).to_term();
//! assert_eq!(t.to_string(), "{add,5}");
//! let bytes = t.to_bytes().unwrap();              // term_to_binary
//! let back = Term::from_bytes(&bytes).unwrap();   // binary_to_term
//! assert_eq!(Request::from_term(&back), Ok(Request::Add(5)));
//! ```
//!
//! A node, and a process Erlang can call (`no_run`: it needs Erlang/OTP's
//! `epmd`):
//!
//! ```no_run
//! use rotp_dist::{GenMessage, Node, Term};
//! use rotp_runtime::Runtime;
//!
//! let rt = Runtime::new()?;
//! let node = Node::builder("rotp@127.0.0.1").cookie("secret").start(&rt)?;
//! let n = node.clone();
//! let mut count = 0i64;
//! let counter = rt.spawn_fn(move |m: GenMessage<Term, i64>, _ctx| match m {
//!     GenMessage::Call { request, from } if request.is_atom("increment") => {
//!         count += 1;
//!         from.reply(&n, count);
//!     }
//!     GenMessage::Cast(k) => count += k,
//!     _ => {}
//! });
//! node.register("counter", &counter)?;
//! // iex> GenServer.call({:counter, :"rotp@127.0.0.1"}, :increment)
//! // 1
//!
//! // And the other way: call an Elixir server.
//! let n: i64 = node.call(("stack", "app@127.0.0.1"), Term::atom("size"), std::time::Duration::from_secs(5))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Concepts
//!
//! ```text
//!   Erlang node ══TCP══ reader thread ──► router ──► sinks (processes that accept terms)
//!                 ║                         │    ──► pending calls (replies, DOWNs)
//!                 ║                         └──► proxies (one local process per remote
//!                 ║                                process with links/monitors)
//!                 ╚══ writer thread ◄── frames queued by any thread (sends, replies,
//!                                       link/monitor signals), plus ticks
//! ```
//!
//! - **Addressing.** Remote processes are [`RemotePid`]s (node, id,
//!   serial, creation); local processes keep their runtime [`Pid`](rotp_runtime::Pid),
//!   and [`Node::pid_of`] names them for other nodes. Send with
//!   [`Node::send`] to a pid or to `(name, node)` ([`Dest`]).
//! - **Receiving.** A process receives terms once it is
//!   [`accept`](Node::accept)ed or [`register`](Node::register)ed with the
//!   node; its message type converts from terms ([`Inbound`]): any
//!   [`FromTerm`] type, or `Result<T, BadMessage>` to be told about
//!   messages that do not convert. A process that never asked receives
//!   nothing from other nodes.
//! - **Calls.** [`Node::call`] and [`Node::cast`] talk to gen_servers on
//!   other nodes with OTP's protocol (monitor, alias tag, typed
//!   [`CallError`]s). [`Node::serve`] lets other nodes call a rotp
//!   GenServer that implements [`RemoteServer`] (derive its
//!   [`RemoteCall`]); [`GenMessage`] and [`GenFrom`] let a raw process
//!   serve the same calls.
//! - **Links and monitors.** [`Node::link`], [`Node::monitor`] and
//!   [`Node::exit`] work on remote processes through a local proxy
//!   process that stands for each one: exits and downs arrive from the
//!   proxy's pid ([`Node::remote_of`] tells which remote process it is),
//!   and losing the connection gives `noconnection`, as in Erlang.
//! - **Nodes.** [`Node::monitor_nodes`] and [`Node::monitor_node`] report
//!   [`NodeEvent`]s; a peer is down when its connection closes or nothing
//!   arrives from it for a tick time.
//! - **Security.** The cookie is never logged or printed; a wrong cookie
//!   fails the handshake; the node listens on loopback unless told
//!   otherwise; frames, handshakes and decoded terms are bounded
//!   ([`NodeBuilder::max_frame`], [`DecodeLimits`]).
//!
//! `docs/distribution.md` describes the protocol support and the
//! differences from OTP.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod bridge;
mod call;
mod conn;
mod connect;
mod control;
mod dest;
mod epmd;
mod error;
mod flags;
mod gen;
mod handshake;
mod kernel;
mod md5;
mod name;
mod node;
mod proxy;
mod random;
mod reason;
mod relations;
mod report;
mod router;
mod send;
#[allow(unsafe_code)] // one `send(2)` with `MSG_DONTWAIT`
mod send_now;
mod sink;
mod term;
pub mod testing;
mod watch;

pub use bridge::{RemoteCall, RemoteReply, RemoteServer};
pub use dest::Dest;
pub use error::{CallError, ConnectError, SendError, StartError};
pub use gen::{GenFrom, GenMessage};
pub use node::{Node, NodeBuilder};
pub use reason::{exit_reason_from_term, reason_to_term};
pub use rotp_dist_derive::{FromTerm, RemoteCall, ToTerm};
pub use term::{
    Atom, BadMessage, BigInt, BitBinary, DecodeError, DecodeLimits, EncodeError, FromTerm,
    FromTermError, Fun, Inbound, RemotePid, RemotePort, RemoteRef, Term, ToTerm, MAX_ATOM_CHARS,
    MAX_REF_WORDS,
};
pub use watch::{NodeDownReason, NodeEvent, NodesMonitor};
