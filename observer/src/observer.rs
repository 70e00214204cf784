//! The observer: an HTTP server thread serving the page and the API, and
//! a sampling thread keeping the charts' history.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rotp_runtime::Handle;

use crate::api::Api;
use crate::http::{self, ReadError, Response};
use crate::sampler::{self, History};

/// How the observer serves; see [`Observer::start`].
///
/// ```
/// use rotp_observer::ObserverOptions;
/// use std::time::Duration;
/// let opts = ObserverOptions::new()
///     .port(0)                 // any free port (the default)
///     .allow_actions(false)    // no kill / suspend buttons (the default)
///     .sample_interval(Duration::from_secs(1))
///     .history(Duration::from_secs(60));
/// assert_eq!(opts.addr().ip().to_string(), "127.0.0.1");
/// ```
#[derive(Debug, Clone)]
pub struct ObserverOptions {
    addr: SocketAddr,
    actions: bool,
    interval: Duration,
    history: Duration,
    max_connections: usize,
}

impl Default for ObserverOptions {
    fn default() -> Self {
        ObserverOptions::new()
    }
}

impl ObserverOptions {
    /// Loopback (`127.0.0.1`), any free port, no actions, one sample a
    /// second, a minute of history.
    pub fn new() -> Self {
        ObserverOptions {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            actions: false,
            interval: Duration::from_secs(1),
            history: Duration::from_secs(60),
            max_connections: 16,
        }
    }

    /// Serves on `port` of the loopback address (0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }

    /// Serves on `addr`. Anything but a loopback address exposes the page
    /// (process names, states, exit reasons) to the network: only do it
    /// behind a firewall you trust.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The address to serve on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Enables the actions that change things: kill, suspend and resume a
    /// process. Off by default.
    pub fn allow_actions(mut self, on: bool) -> Self {
        self.actions = on;
        self
    }

    /// How often the scheduler charts get a point (at least 100 ms).
    pub fn sample_interval(mut self, every: Duration) -> Self {
        self.interval = every.max(Duration::from_millis(100));
        self
    }

    /// How much history the charts keep.
    pub fn history(mut self, span: Duration) -> Self {
        self.history = span;
        self
    }

    /// Connections served at once; more are answered `503` (at least 1).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }
}

/// A running observer; stops when dropped (or with [`stop`](Self::stop)).
///
/// ```
/// use rotp_observer::{Observer, ObserverOptions};
/// use std::io::{Read, Write};
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let observer = Observer::start(&rt, ObserverOptions::new()).unwrap();
/// assert!(observer.url().starts_with("http://127.0.0.1:"));
///
/// let mut conn = std::net::TcpStream::connect(observer.addr()).unwrap();
/// write!(conn, "GET /api/names HTTP/1.1\r\nHost: {}\r\n\r\n", observer.addr()).unwrap();
/// let mut answer = String::new();
/// conn.read_to_string(&mut answer).unwrap();
/// assert!(answer.starts_with("HTTP/1.1 200 OK"));
/// assert!(answer.ends_with(r#"{"names":[]}"#));
/// ```
#[derive(Debug)]
pub struct Observer {
    addr: SocketAddr,
    telemetry_id: String,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Observer {
    /// Starts serving the runtime behind `handle`.
    pub fn start(handle: &Handle, opts: ObserverOptions) -> io::Result<Observer> {
        let listener = TcpListener::bind(opts.addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let (history, sampler) =
            sampler::start(handle.clone(), opts.interval, opts.history, stop.clone())?;
        let telemetry_id = format!("rotp-observer:{addr}");
        let exits = crate::exits::attach(&telemetry_id);
        let server = Server {
            handle: handle.clone(),
            history,
            exits,
            addr,
            actions: opts.actions,
            max_connections: opts.max_connections,
            active: Arc::new(AtomicUsize::new(0)),
        };
        let s = stop.clone();
        let accept = std::thread::Builder::new()
            .name("rotp-observer".into())
            .spawn(move || accept_loop(listener, Arc::new(server), s))?;
        log::info!("observer serving on http://{addr}/");
        Ok(Observer {
            addr,
            telemetry_id,
            stop,
            threads: vec![accept, sampler],
        })
    }

    /// The address it serves on (with the port chosen, if it was 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops serving and waits for the observer's threads (connections in
    /// progress are finished or time out).
    pub fn stop(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        if self.stop.swap(true, Ordering::Relaxed) {
            return;
        }
        let _ = rotp_runtime::telemetry::detach(&self.telemetry_id);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.shut();
    }
}

struct Server {
    handle: Handle,
    history: Arc<Mutex<History>>,
    exits: crate::exits::Exits,
    addr: SocketAddr,
    actions: bool,
    max_connections: usize,
    active: Arc<AtomicUsize>,
}

fn accept_loop(listener: TcpListener, server: Arc<Server>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                if server.active.fetch_add(1, Ordering::AcqRel) >= server.max_connections {
                    server.active.fetch_sub(1, Ordering::AcqRel);
                    let mut stream = stream;
                    let _ = prepare(&stream);
                    let _ = Response::error(503, "too many connections").write_to(&mut stream);
                    continue;
                }
                let s = server.clone();
                let spawned = std::thread::Builder::new()
                    .name("rotp-observer-conn".into())
                    .spawn(move || {
                        s.serve(stream);
                        s.active.fetch_sub(1, Ordering::AcqRel);
                    });
                if spawned.is_err() {
                    server.active.fetch_sub(1, Ordering::AcqRel);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                log::warn!("observer: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn prepare(stream: &TcpStream) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(http::IO_TIMEOUT))?;
    stream.set_write_timeout(Some(http::IO_TIMEOUT))
}

impl Server {
    fn serve(&self, mut stream: TcpStream) {
        if prepare(&stream).is_err() {
            return;
        }
        let response = match http::read_request(&mut stream) {
            Ok(req) if !self.host_allowed(req.header("host")) => {
                Response::error(421, "unexpected Host header")
            }
            Ok(req) => Api {
                handle: &self.handle,
                history: &self.history,
                exits: &self.exits,
                actions: self.actions,
            }
            .route(&req),
            Err(ReadError::TooLarge) => Response::error(431, "request too large"),
            Err(ReadError::Malformed) => Response::error(400, "malformed request"),
            Err(ReadError::Io) => return,
        };
        let _ = response.write_to(&mut stream);
    }

    /// On a loopback address, only requests naming a loopback host are
    /// served: a page elsewhere that points a name of its own at 127.0.0.1
    /// (DNS rebinding) gets nothing.
    fn host_allowed(&self, host: Option<&str>) -> bool {
        if !self.addr.ip().is_loopback() {
            return true;
        }
        let Some(host) = host else {
            return false;
        };
        let port = self.addr.port();
        let name = match host.rsplit_once(':') {
            Some((name, p)) if p.parse() == Ok(port) => name,
            Some(_) => return false,
            None => host,
        };
        matches!(name, "127.0.0.1" | "localhost" | "[::1]")
    }
}
