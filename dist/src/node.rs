//! The node: its identity, its connections, and the tables every thread
//! of the node shares.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Arc, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use rotp_runtime::{Addr, Handle, MonitorRef, Pid, RegisterError};

use crate::call::PendingCall;
use crate::conn::{Conn, ConnState};
use crate::epmd::{self, Registration};
use crate::error::{ConnectError, StartError};
use crate::flags;
use crate::handshake::Local;
use crate::kernel::Kernel;
use crate::name;
use crate::proxy::{Proxies, ProxyMsg};
use crate::sink::{Sink, TypedSink};
use crate::term::{Atom, DecodeLimits, Inbound, RemotePid, RemoteRef};
use crate::watch::{notifier, NodeDownReason, NodeEvent, NodesMonitor, Watchers};

/// The cookie: compared through digests, never logged or printed.
#[derive(Clone)]
pub(crate) struct Cookie(pub(crate) Vec<u8>);

impl fmt::Debug for Cookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cookie(<hidden>)")
    }
}

/// The node's settings.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) tick_time: Duration,
    pub(crate) setup_timeout: Duration,
    pub(crate) max_frame: usize,
    pub(crate) busy_limit: usize,
    pub(crate) limits: DecodeLimits,
    pub(crate) hidden: bool,
    pub(crate) epmd_port: u16,
}

/// What the node's threads and processes share.
pub(crate) struct Shared {
    pub(crate) name: Atom,
    pub(crate) creation: u32,
    pub(crate) cookie: Cookie,
    pub(crate) rt: Handle,
    pub(crate) opts: Options,
    pub(crate) started: Instant,
    pub(crate) listen_addr: SocketAddr,
    pub(crate) conns: Mutex<HashMap<Atom, Arc<Conn>>>,
    pub(crate) sinks: RwLock<HashMap<Pid, Arc<dyn Sink>>>,
    /// Sinks for registered names, whoever holds them
    /// ([`Node::serve_named`](crate::Node::serve_named)).
    pub(crate) named_sinks: RwLock<HashMap<Atom, Arc<dyn Sink>>>,
    pub(crate) proxies: Mutex<Proxies>,
    /// Monitors local processes hold on proxies, by their reference.
    pub(crate) monitor_index: Mutex<HashMap<MonitorRef, Addr<ProxyMsg>>>,
    pub(crate) calls: Mutex<HashMap<RemoteRef, PendingCall>>,
    pub(crate) watchers: Mutex<Watchers>,
    pub(crate) next_ref: AtomicU64,
    pub(crate) next_conn: AtomicU64,
    pub(crate) kernel: OnceLock<Addr<()>>,
    /// The sink count after the last sweep of dead processes' sinks.
    pub(crate) swept: AtomicUsize,
    pub(crate) stopping: AtomicBool,
    pub(crate) registration: Mutex<Option<Registration>>,
    pub(crate) threads: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) handshakes: AtomicUsize,
    /// This value, for threads it starts.
    pub(crate) me: OnceLock<Weak<Shared>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.name)
            .field("creation", &self.creation)
            .field("listen_addr", &self.listen_addr)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// This node's pid for local process `pid`.
    pub(crate) fn remote_pid(&self, pid: Pid) -> RemotePid {
        let (id, serial) = pid.parts();
        RemotePid::new(self.name.clone(), id, serial, self.creation)
    }

    /// The local process a pid of this node names; `None` for pids of
    /// other nodes or of an earlier incarnation of this one.
    pub(crate) fn local_pid(&self, pid: &RemotePid) -> Option<Pid> {
        (pid.node == self.name && pid.creation == self.creation)
            .then(|| Pid::from_parts(pid.id, pid.serial))
    }

    pub(crate) fn make_ref(&self) -> RemoteRef {
        let n = self.next_ref.fetch_add(1, Relaxed);
        RemoteRef::new(
            self.name.clone(),
            self.creation,
            &[n as u32, (n >> 32) as u32, 0],
        )
        .expect("three words")
    }

    /// The pid that sends from here: the running process, or the node's
    /// own process outside any.
    pub(crate) fn sender(&self) -> RemotePid {
        match rotp_runtime::self_pid() {
            Some(pid) => self.remote_pid(pid),
            None => self.remote_pid(self.kernel_pid()),
        }
    }

    /// Registers the sink of local process `pid`.
    pub(crate) fn add_sink(&self, pid: Pid, sink: Arc<dyn Sink>) {
        let mut sinks = self.sinks.write();
        sinks.insert(pid, sink);
        // Sinks of exited processes go when a message finds them gone, and
        // in a sweep whenever the table has doubled since the last one:
        // linear work per doubling, so the table stays within twice the
        // processes alive.
        if sinks.len() >= 2 * self.swept.load(Relaxed).max(32) {
            sinks.retain(|_, sink| sink.is_alive());
            self.swept.store(sinks.len(), Relaxed);
        }
    }

    pub(crate) fn kernel_pid(&self) -> Pid {
        self.kernel.get().map_or(Pid::ROOT, Addr::pid)
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Acquire)
    }

    pub(crate) fn local(&self) -> Local<'_> {
        let mut flags = flags::OFFERED;
        if !self.opts.hidden {
            flags |= flags::PUBLISHED;
        }
        Local {
            name: &self.name,
            creation: self.creation,
            flags,
            cookie: &self.cookie.0,
            deadline: Instant::now() + self.opts.setup_timeout,
        }
    }
}

/// Stops the node when the last [`Node`] handle is dropped.
struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// A rotp runtime as a node of an Erlang/Elixir cluster.
///
/// A node has a name (`rotp@127.0.0.1`), a cookie, and a runtime whose
/// processes it lets other nodes reach. It registers with EPMD (starting
/// the `epmd` of Erlang/OTP if none runs), accepts connections from
/// Erlang nodes and dials them when something is sent their way, and
/// speaks OTP's distribution protocol: links, monitors and messages cross
/// nodes with Erlang's semantics.
///
/// ```no_run
/// use rotp_dist::{Node, Term};
/// use rotp_runtime::Runtime;
///
/// let rt = Runtime::new()?;
/// let node = Node::builder("rotp@127.0.0.1").cookie("secret").start(&rt)?;
/// // A process other nodes can send to: {echo, 'rotp@127.0.0.1'} ! Msg
/// let n = node.clone();
/// let echo = rt.spawn_fn(move |msg: Term, _ctx| {
///     if let Some([Term::Pid(from), body]) = msg.as_tuple() {
///         let _ = n.send(from, body);
///     }
/// });
/// node.register("echo", &echo)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Cloning is cheap; the node stops when the last clone is dropped, or at
/// [`stop`](Node::stop).
#[derive(Clone)]
pub struct Node {
    pub(crate) shared: Arc<Shared>,
    _owner: Arc<Owner>,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.shared, f)
    }
}

/// How to start a [`Node`]; from [`Node::builder`].
#[derive(Debug, Clone)]
pub struct NodeBuilder {
    name: String,
    cookie: Option<Cookie>,
    listen: IpAddr,
    port: u16,
    opts: Options,
    start_epmd: bool,
}

impl NodeBuilder {
    /// The cookie shared with the other nodes (`-setcookie`). Without one,
    /// the node reads `~/.erlang.cookie`, as `erl` does.
    pub fn cookie(mut self, cookie: impl AsRef<[u8]>) -> Self {
        self.cookie = Some(Cookie(cookie.as_ref().to_vec()));
        self
    }

    /// The address to listen on; loopback (`127.0.0.1`) unless told
    /// otherwise. Listening elsewhere exposes the node to that network:
    /// the cookie is its only protection.
    pub fn listen(mut self, ip: IpAddr) -> Self {
        self.listen = ip;
        self
    }

    /// The port to listen on; by default one the system picks (EPMD tells
    /// peers which).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The tick time (`net_ticktime`, default 60 s): a peer from which
    /// nothing arrives for this long is declared down; ticks go out every
    /// quarter of it.
    pub fn tick_time(mut self, tick: Duration) -> Self {
        self.opts.tick_time = tick.max(Duration::from_millis(100));
        self
    }

    /// How long connecting to a node may take (`net_setuptime`, default
    /// 7 s).
    pub fn setup_timeout(mut self, timeout: Duration) -> Self {
        self.opts.setup_timeout = timeout;
        self
    }

    /// The largest frame accepted from a peer (default 64 MiB). A larger
    /// one is read and dropped, with a warning; the connection stays up.
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.opts.max_frame = bytes;
        self
    }

    /// Bounds on each term received (default: [`DecodeLimits::default`]).
    pub fn decode_limits(mut self, limits: DecodeLimits) -> Self {
        self.opts.limits = limits;
        self
    }

    /// How many bytes may wait for one connection before a sending process
    /// waits for the writer to catch up (default 8 MiB; BEAM's
    /// `dist_buf_busy_limit`).
    pub fn busy_limit(mut self, bytes: usize) -> Self {
        self.opts.busy_limit = bytes.max(1);
        self
    }

    /// Whether the node is hidden (default `true`): it connects and is
    /// reached like any node, and Erlang lists it in `nodes(hidden)`, not
    /// `nodes()`. A published node (`false`) is listed in `nodes()`, but
    /// `global` on the Erlang nodes then waits for a name server rotp does
    /// not run (`global:sync()` blocks there): publish only in clusters that
    /// do not use `global`.
    pub fn hidden(mut self, hidden: bool) -> Self {
        self.opts.hidden = hidden;
        self
    }

    /// EPMD's port (default `ERL_EPMD_PORT` or 4369).
    pub fn epmd_port(mut self, port: u16) -> Self {
        self.opts.epmd_port = port;
        self
    }

    /// Whether to start `epmd -daemon` when no EPMD answers (default
    /// `true`).
    pub fn start_epmd(mut self, start: bool) -> Self {
        self.start_epmd = start;
        self
    }

    /// Starts the node on the runtime behind `handle`.
    pub fn start(self, handle: &Handle) -> Result<Node, StartError> {
        let Some((alive, _host)) = name::split(&self.name) else {
            return Err(StartError::InvalidName(self.name));
        };
        let name =
            Atom::try_new(&self.name).map_err(|_| StartError::InvalidName(self.name.clone()))?;
        let cookie = match self.cookie {
            Some(c) => c,
            None => home_cookie().ok_or(StartError::EmptyCookie)?,
        };
        if cookie.0.is_empty() {
            return Err(StartError::EmptyCookie);
        }
        if self.start_epmd {
            epmd::ensure_running(self.opts.epmd_port).map_err(StartError::Epmd)?;
        }
        let listener = TcpListener::bind((self.listen, self.port)).map_err(StartError::Listen)?;
        let listen_addr = listener.local_addr().map_err(StartError::Listen)?;
        let registration = epmd::register(
            self.opts.epmd_port,
            alive,
            listen_addr.port(),
            self.opts.hidden,
        )
        .map_err(|e| match e {
            epmd::RegisterError::Refused => StartError::NameTaken(self.name.clone()),
            epmd::RegisterError::Io(e) => StartError::Epmd(e),
        })?;
        let shared = Arc::new(Shared {
            name,
            creation: registration.creation,
            cookie,
            rt: handle.clone(),
            opts: self.opts,
            started: Instant::now(),
            listen_addr,
            conns: Mutex::new(HashMap::new()),
            sinks: RwLock::new(HashMap::new()),
            named_sinks: RwLock::new(HashMap::new()),
            proxies: Mutex::new(Proxies::default()),
            monitor_index: Mutex::new(HashMap::new()),
            calls: Mutex::new(HashMap::new()),
            watchers: Mutex::new(Watchers::default()),
            next_ref: AtomicU64::new(1),
            next_conn: AtomicU64::new(1),
            kernel: OnceLock::new(),
            swept: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            registration: Mutex::new(Some(registration)),
            threads: Mutex::new(Vec::new()),
            handshakes: AtomicUsize::new(0),
            me: OnceLock::new(),
        });
        let _ = shared.me.set(Arc::downgrade(&shared));
        let kernel = handle.spawn_trapping(Kernel);
        let _ = shared.kernel.set(kernel);
        let acceptor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("rotp-dist-accept".into())
                .spawn(move || shared.accept_loop(listener))
                .map_err(StartError::Thread)?
        };
        shared.threads.lock().push(acceptor);
        log::info!("node {} up, listening on {listen_addr}", shared.name);
        Ok(Node {
            _owner: Arc::new(Owner(shared.clone())),
            shared,
        })
    }
}

/// The cookie in `~/.erlang.cookie`, if readable.
fn home_cookie() -> Option<Cookie> {
    let home = std::env::var_os("HOME")?;
    let text = std::fs::read(std::path::Path::new(&home).join(".erlang.cookie")).ok()?;
    let trimmed = text.trim_ascii();
    (!trimmed.is_empty()).then(|| Cookie(trimmed.to_vec()))
}

impl Node {
    /// A builder for the node `name` (`name@host`).
    pub fn builder(name: &str) -> NodeBuilder {
        NodeBuilder {
            name: name.to_owned(),
            cookie: None,
            listen: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            opts: Options {
                tick_time: Duration::from_secs(60),
                setup_timeout: Duration::from_secs(7),
                max_frame: 64 << 20,
                busy_limit: 8 << 20,
                limits: DecodeLimits::default(),
                hidden: true,
                epmd_port: epmd::default_port(),
            },
            start_epmd: true,
        }
    }

    /// This node's name.
    pub fn name(&self) -> &Atom {
        &self.shared.name
    }

    /// This incarnation's creation, from EPMD.
    pub fn creation(&self) -> u32 {
        self.shared.creation
    }

    /// Where the node listens.
    pub fn listen_addr(&self) -> SocketAddr {
        self.shared.listen_addr
    }

    /// The runtime the node serves.
    pub fn handle(&self) -> &Handle {
        &self.shared.rt
    }

    /// The name other nodes know local process `pid` by.
    pub fn pid_of(&self, pid: Pid) -> RemotePid {
        self.shared.remote_pid(pid)
    }

    /// The local process `pid` names, if it is a pid of this node (of this
    /// incarnation).
    pub fn local_pid(&self, pid: &RemotePid) -> Option<Pid> {
        self.shared.local_pid(pid)
    }

    /// A new reference of this node (`make_ref()`).
    pub fn make_ref(&self) -> RemoteRef {
        self.shared.make_ref()
    }

    /// Lets other nodes send to the process behind `addr`: what arrives is
    /// converted to `M` (see [`Inbound`]). Returns the pid other nodes
    /// know it by.
    pub fn accept<M: Inbound>(&self, addr: &Addr<M>) -> RemotePid {
        let pid = addr.pid();
        self.shared
            .add_sink(pid, Arc::new(TypedSink { addr: addr.clone() }));
        self.shared.remote_pid(pid)
    }

    /// Registers the process behind `addr` as `name` on the runtime and
    /// [`accept`](Node::accept)s messages for it, so that other nodes reach
    /// it as `{name, node}`.
    pub fn register<M: Inbound>(
        &self,
        name: &str,
        addr: &Addr<M>,
    ) -> Result<RemotePid, RegisterError> {
        self.shared.rt.register(name, addr.pid())?;
        Ok(self.accept(addr))
    }

    /// Connects to `node` now, waiting for the handshake
    /// (`net_kernel:connect_node/1`). Sends connect on their own; this
    /// tells whether the node can be reached, and why not.
    pub fn connect(&self, node: &str) -> Result<(), ConnectError> {
        let peer = Atom::try_new(node).map_err(|_| ConnectError::InvalidName(node.to_owned()))?;
        let conn = self.shared.conn_for(&peer)?;
        let timeout = self.shared.opts.setup_timeout * 2;
        let state = if rotp_runtime::self_pid().is_some() {
            rotp_runtime::blocking(|| conn.wait_settled(timeout))
        } else {
            conn.wait_settled(timeout)
        };
        match state {
            ConnState::Up => Ok(()),
            ConnState::Pending => Err(ConnectError::Timeout),
            ConnState::Down(_) => Err(conn
                .failure
                .lock()
                .as_ref()
                .map(ConnectError::copy)
                .unwrap_or(ConnectError::Refused("the connection was lost".into()))),
        }
    }

    /// Closes the connection to `node`, if any
    /// (`erlang:disconnect_node/1`): links and monitors across it get
    /// `noconnection`. Returns whether there was one.
    pub fn disconnect(&self, node: &str) -> bool {
        let conn = self.shared.conns.lock().get(node).cloned();
        match conn {
            Some(conn) => {
                self.shared.on_down(&conn, NodeDownReason::Disconnect);
                true
            }
            None => false,
        }
    }

    /// The nodes connected now (`nodes(connected)`).
    pub fn nodes(&self) -> Vec<Atom> {
        let mut nodes: Vec<Atom> = self
            .shared
            .conns
            .lock()
            .values()
            .filter(|c| c.is_up())
            .map(|c| c.peer.clone())
            .collect();
        nodes.sort();
        nodes
    }

    /// Whether a connection to `node` is up.
    pub fn is_connected(&self, node: &str) -> bool {
        self.shared
            .conns
            .lock()
            .get(node)
            .is_some_and(|c| c.is_up())
    }

    /// Sends every node up and down to the process behind `addr`
    /// (`net_kernel:monitor_nodes(true)`), as [`NodeEvent`]s.
    pub fn monitor_nodes<M: From<NodeEvent> + Send + 'static>(
        &self,
        addr: &Addr<M>,
    ) -> NodesMonitor {
        self.shared.watchers.lock().add_all(notifier(addr))
    }

    /// Stops a [`monitor_nodes`](Node::monitor_nodes) subscription.
    pub fn demonitor_nodes(&self, id: NodesMonitor) -> bool {
        self.shared.watchers.lock().remove_all(id)
    }

    /// Sends the process behind `addr` one [`NodeEvent::Down`] when the
    /// connection to `node` is lost (`erlang:monitor_node(Node, true)`).
    /// Like Erlang, connects to `node` if needed; if it cannot be reached
    /// the `Down` comes at once.
    pub fn monitor_node<M: From<NodeEvent> + Send + 'static>(
        &self,
        node: &str,
        addr: &Addr<M>,
    ) -> Result<(), ConnectError> {
        let peer = Atom::try_new(node).map_err(|_| ConnectError::InvalidName(node.to_owned()))?;
        let mut watchers = self.shared.watchers.lock();
        watchers.add_once(peer.clone(), notifier(addr));
        drop(watchers);
        if let Err(e) = self.shared.conn_for(&peer) {
            self.shared.watchers.lock().event(
                &NodeEvent::Down(peer, NodeDownReason::ConnectionSetupFailed),
                false,
            );
            return Err(e);
        }
        Ok(())
    }

    /// Stops the node: closes every connection (links and monitors across
    /// them get `noconnection`), leaves EPMD and stops listening. Also
    /// happens when the last handle is dropped.
    pub fn stop(&self) {
        self.shared.stop();
    }
}
