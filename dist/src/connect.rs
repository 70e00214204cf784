//! Making and losing connections: dialling peers, accepting them, the
//! handshake's admission decisions, and what happens when a connection is
//! lost.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering::*;
use std::sync::{Arc, Weak};
use std::time::Duration;

use rotp_runtime::Addr;

use crate::conn::{attach, Conn, ConnState};
use crate::epmd;
use crate::error::ConnectError;
use crate::handshake::{self, Admission, Peer};
use crate::name;
use crate::node::Shared;
use crate::proxy::ProxyMsg;
use crate::term::Atom;
use crate::watch::{NodeDownReason, NodeEvent};

/// What an incoming handshake completes: the connection it attaches to,
/// the one it replaces (a peer that restarted before its old connection
/// was noticed as lost), and whether the connection was made for it (and
/// is to be failed if the handshake fails).
struct Plan {
    conn: Arc<Conn>,
    replaces: Option<Arc<Conn>>,
    fresh: bool,
}

impl Plan {
    fn fresh(conn: Arc<Conn>) -> Plan {
        Plan {
            conn,
            replaces: None,
            fresh: true,
        }
    }
}

/// The most incoming handshakes run at once; more connections wait in
/// the listen backlog.
const MAX_HANDSHAKES: usize = 32;

impl Shared {
    /// The connection to `peer`, pending or up; dials if there is none.
    pub(crate) fn conn_for(&self, peer: &Atom) -> Result<Arc<Conn>, ConnectError> {
        let Some(shared) = self.arc().filter(|_| !self.is_stopping()) else {
            return Err(ConnectError::Stopped);
        };
        if *peer == self.name {
            return Err(ConnectError::SelfConnect);
        }
        if name::split(peer.as_str()).is_none() {
            return Err(ConnectError::InvalidName(peer.as_str().to_owned()));
        }
        let conn = {
            let mut conns = self.conns.lock();
            if let Some(c) = conns.get(peer) {
                return Ok(c.clone());
            }
            let c = Arc::new(Conn::new(
                self.next_conn.fetch_add(1, Relaxed),
                peer.clone(),
            ));
            c.dialling.store(true, Release);
            conns.insert(peer.clone(), c.clone());
            c
        };
        let c = conn.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("rotp-dist-dial-{peer}"))
            .spawn(move || shared.dial(&c));
        if let Err(e) = spawned {
            crate::report::error(format_args!(
                "cannot start a thread to connect to {peer}: {e}"
            ));
            self.fail(&conn, ConnectError::Io(e));
        }
        Ok(conn)
    }

    /// Queues `frame` for `node`, connecting if needed; dropped if the
    /// node cannot be reached (Erlang's send semantics).
    pub(crate) fn send_frame_to(&self, node: &Atom, frame: Vec<u8>, may_block: bool) {
        let conn = self.conns.lock().get(node).cloned();
        let conn = match conn {
            Some(conn) => conn,
            None => match self.conn_for(node) {
                Ok(conn) => conn,
                Err(e) => {
                    log::debug!("frame for {node} dropped: {e}");
                    return;
                }
            },
        };
        conn.send(frame, may_block, self.opts.busy_limit);
    }

    fn arc(&self) -> Option<Arc<Shared>> {
        self.me.get().and_then(Weak::upgrade)
    }

    /// Dials the peer of a pending connection (a connector thread).
    fn dial(self: &Arc<Self>, conn: &Arc<Conn>) {
        let result = self.handshake_out(&conn.peer);
        conn.dialling.store(false, Release);
        match result {
            Ok((stream, peer)) => {
                if attach(self, conn, stream, peer) {
                    self.node_up(conn);
                }
            }
            Err(ConnectError::Refused(status)) if status == "nok" => {
                // The peer's own attempt to reach us wins; it attaches to
                // this connection through the acceptor.
                if conn.wait_settled(self.opts.setup_timeout) == ConnState::Pending {
                    self.fail(conn, ConnectError::Timeout);
                }
            }
            Err(e) => self.fail(conn, e),
        }
    }

    fn fail(&self, conn: &Arc<Conn>, e: ConnectError) {
        match &e {
            ConnectError::BadCookie => crate::report::warn(format_args!(
                "cannot connect to {}: the cookies differ",
                conn.peer
            )),
            e => log::info!("cannot connect to {}: {e}", conn.peer),
        }
        *conn.failure.lock() = Some(e);
        self.on_down(conn, NodeDownReason::ConnectionSetupFailed);
    }

    fn handshake_out(&self, peer: &Atom) -> Result<(TcpStream, Peer), ConnectError> {
        let (alive, host) = name::split(peer.as_str())
            .ok_or_else(|| ConnectError::InvalidName(peer.as_str().to_owned()))?;
        let port = epmd::port_please(host, self.opts.epmd_port, alive)
            .map_err(|source| ConnectError::Epmd {
                host: host.to_owned(),
                source,
            })?
            .ok_or_else(|| ConnectError::NotRegistered(peer.as_str().to_owned()))?;
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
            .map_err(ConnectError::Io)?
            .next()
            .ok_or_else(|| ConnectError::NotRegistered(peer.as_str().to_owned()))?;
        let mut stream = TcpStream::connect_timeout(&addr, self.opts.setup_timeout)
            .map_err(ConnectError::from_io)?;
        stream
            .set_read_timeout(Some(self.opts.setup_timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.opts.setup_timeout)))
            .and_then(|()| stream.set_nodelay(true))
            .map_err(ConnectError::Io)?;
        let peer_info = handshake::initiate(&mut stream, &self.local(), peer)?;
        Ok((stream, peer_info))
    }

    /// Runs the acceptor's side of a handshake (a handshake thread).
    fn handshake_in(self: &Arc<Self>, mut stream: TcpStream) {
        let setup = self.opts.setup_timeout;
        if stream
            .set_read_timeout(Some(setup))
            .and_then(|()| stream.set_write_timeout(Some(setup)))
            .and_then(|()| stream.set_nodelay(true))
            .is_err()
        {
            return;
        }
        let mut plan: Option<Plan> = None;
        let local = self.local();
        let result = handshake::accept(&mut stream, &local, |peer, _creation| {
            let (admission, chosen) = self.admit(peer);
            plan = chosen;
            admission
        });
        match result {
            Ok(peer) => {
                let Some(Plan { conn, replaces, .. }) = plan else {
                    return;
                };
                if let Some(old) = replaces {
                    self.on_down(&old, NodeDownReason::Replaced);
                    self.conns.lock().insert(conn.peer.clone(), conn.clone());
                }
                if attach(self, &conn, stream, peer) {
                    self.node_up(&conn);
                }
            }
            Err(e) => {
                let who = plan
                    .as_ref()
                    .map(|p| p.conn.peer.to_string())
                    .unwrap_or_else(|| "a peer".into());
                match &e {
                    ConnectError::BadCookie => crate::report::warn(format_args!(
                        "refused a connection from {who}: the cookies differ"
                    )),
                    e => log::info!("incoming connection from {who} failed: {e}"),
                }
                if let Some(Plan {
                    conn,
                    replaces: None,
                    fresh: true,
                }) = plan
                {
                    self.fail(&conn, e);
                }
            }
        }
    }

    /// Decides the status for a node that dials us, and which connection
    /// its handshake will complete.
    fn admit(&self, peer: &Atom) -> (Admission, Option<Plan>) {
        if self.is_stopping() || *peer == self.name {
            return (Admission::NotAllowed, None);
        }
        let mut conns = self.conns.lock();
        match conns.get(peer).cloned() {
            None => {
                let c = Arc::new(Conn::new(
                    self.next_conn.fetch_add(1, Relaxed),
                    peer.clone(),
                ));
                conns.insert(peer.clone(), c.clone());
                (Admission::Ok, Some(Plan::fresh(c)))
            }
            Some(c) => match c.state() {
                ConnState::Pending if c.dialling.load(Acquire) => {
                    // Both dial at once: the greater name's attempt wins.
                    if peer.as_str() > self.name.as_str() {
                        (
                            Admission::OkSimultaneous,
                            Some(Plan {
                                conn: c,
                                replaces: None,
                                fresh: false,
                            }),
                        )
                    } else {
                        (Admission::Nok, None)
                    }
                }
                ConnState::Pending => (Admission::Nok, None),
                ConnState::Up => {
                    let fresh = Arc::new(Conn::new(
                        self.next_conn.fetch_add(1, Relaxed),
                        peer.clone(),
                    ));
                    (
                        Admission::Alive,
                        Some(Plan {
                            conn: fresh,
                            replaces: Some(c),
                            fresh: false,
                        }),
                    )
                }
                ConnState::Down(_) => {
                    let fresh = Arc::new(Conn::new(
                        self.next_conn.fetch_add(1, Relaxed),
                        peer.clone(),
                    ));
                    conns.insert(peer.clone(), fresh.clone());
                    (Admission::Ok, Some(Plan::fresh(fresh)))
                }
            },
        }
    }

    fn node_up(&self, conn: &Arc<Conn>) {
        log::info!("connected to {}", conn.peer);
        self.watchers
            .lock()
            .event(&NodeEvent::Up(conn.peer.clone()), true);
    }

    /// The connection is lost (or could not be made): tell every
    /// relation, call and watcher that crossed it.
    pub(crate) fn on_down(&self, conn: &Arc<Conn>, reason: NodeDownReason) {
        let was_up = conn.is_up();
        if !conn.mark_down(reason.clone()) {
            return;
        }
        {
            let mut conns = self.conns.lock();
            if conns.get(&conn.peer).map(|c| c.id) == Some(conn.id) {
                conns.remove(&conn.peer);
            }
        }
        if was_up {
            log::info!("connection to {} lost: {reason}", conn.peer);
        }
        let lost: Vec<Addr<ProxyMsg>> = {
            let mut proxies = self.proxies.lock();
            let targets: Vec<_> = proxies
                .by_target
                .keys()
                .filter(|t| *t.node() == conn.peer)
                .cloned()
                .collect();
            targets
                .into_iter()
                .filter_map(|t| {
                    let proxy = proxies.by_target.remove(&t)?;
                    proxies.by_pid.remove(&proxy.addr.pid());
                    Some(proxy.addr)
                })
                .collect()
        };
        for proxy in lost {
            proxy.send(ProxyMsg::ConnectionLost);
        }
        crate::call::fail_calls(self, conn);
        self.watchers
            .lock()
            .event(&NodeEvent::Down(conn.peer.clone(), reason), was_up);
    }

    pub(crate) fn accept_loop(self: &Arc<Self>, listener: TcpListener) {
        for stream in listener.incoming() {
            if self.is_stopping() {
                return;
            }
            let stream = match stream {
                Ok(s) => s,
                Err(e) => {
                    crate::report::warn(format_args!("accepting a connection failed: {e}"));
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            if self.handshakes.fetch_add(1, AcqRel) >= MAX_HANDSHAKES {
                self.handshakes.fetch_sub(1, AcqRel);
                crate::report::warn(format_args!(
                    "too many handshakes at once; a connection was refused"
                ));
                continue;
            }
            let shared = self.clone();
            let spawned = std::thread::Builder::new()
                .name("rotp-dist-handshake".into())
                .spawn(move || {
                    shared.handshake_in(stream);
                    shared.handshakes.fetch_sub(1, AcqRel);
                });
            if spawned.is_err() {
                self.handshakes.fetch_sub(1, AcqRel);
            }
        }
    }

    pub(crate) fn stop(&self) {
        if self.stopping.swap(true, AcqRel) {
            return;
        }
        // Wake the acceptor.
        let wake = match self.listen_addr.ip() {
            ip if ip.is_unspecified() => {
                SocketAddr::new(Ipv4Addr::LOCALHOST.into(), self.listen_addr.port())
            }
            _ => self.listen_addr,
        };
        let _ = TcpStream::connect_timeout(&wake, Duration::from_millis(200));
        let conns: Vec<Arc<Conn>> = self.conns.lock().values().cloned().collect();
        for conn in conns {
            self.on_down(&conn, NodeDownReason::Stopped);
        }
        self.registration.lock().take();
        if let Some(kernel) = self.kernel.get() {
            kernel.send(());
        }
        let threads = std::mem::take(&mut *self.threads.lock());
        for t in threads {
            let _ = t.join();
        }
        log::info!("node {} stopped", self.name);
    }
}
