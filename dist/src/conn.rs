//! One connection to another node: its state, its queue of outgoing
//! frames, and the two threads that move bytes.
//!
//! A `Conn` exists from the moment something wants the peer (a send, a
//! link, a call, an incoming handshake) until the connection is lost. While
//! it is pending, frames queue up; once a handshake succeeds the socket is
//! attached and a writer thread drains the queue, while a reader thread
//! reads frames and hands them to the router. When the connection is lost,
//! the node's `on_down` tells everything that crossed it.
//!
//! ```text
//!   senders (any thread) ──frames──► queue ──► writer thread ──► socket
//!          └──── nothing queued, nobody writing: written now ────┘
//!   socket ──► reader thread ──► router ──► processes, proxies, calls
//! ```
//!
//! A sender that finds the connection quiet (nothing written for
//! [`QUIET`]), nothing queued and nobody writing writes its frame itself,
//! without waiting for room in the socket ([`send_now`]): a call's reply
//! then leaves from the worker that made it, instead of waking the writer
//! thread for it. Frames that follow each other closely go through the
//! writer thread, which coalesces them into one write: a system call per
//! frame would cost a sender more than the queue does. What does not fit
//! at once stays in `leftover`, which the writer thread writes before
//! anything else. Whoever writes
//! holds `out`, so frames never interleave, and a sender writes only when
//! `queued` is zero under that lock, so nothing queued before its frame is
//! still unwritten (the writer thread counts a frame off only once it is
//! on the socket).
//!
//! Ticks: the writer sends an empty frame when it has sent nothing for a
//! quarter of the tick time, and declares the peer dead when nothing at all
//! has arrived for the whole tick time (the reader stamps every arrival).

use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::*};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::{Condvar, Mutex};

use crate::handshake::Peer;
use crate::node::Shared;
use crate::send_now::send_now;
use crate::term::Atom;
use crate::watch::NodeDownReason;

/// Where a connection is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConnState {
    /// A handshake may be under way; frames queue.
    Pending,
    /// The socket is attached.
    Up,
    /// Lost; frames are dropped.
    Down(NodeDownReason),
}

pub(crate) struct Conn {
    /// Tells incarnations of connections to one peer apart.
    pub(crate) id: u64,
    pub(crate) peer: Atom,
    tx: Sender<Vec<u8>>,
    rx: Mutex<Option<Receiver<Vec<u8>>>>,
    state: Mutex<ConnState>,
    changed: Condvar,
    /// Bytes queued and not yet written.
    queued: AtomicUsize,
    /// Milliseconds since the node started, at the last arrival.
    last_recv: AtomicU64,
    socket: Mutex<Option<TcpStream>>,
    /// Held by whoever writes to the socket.
    out: Mutex<Out>,
    /// When the socket was last written (see `now`).
    last_write: AtomicU64,
    epoch: Instant,
    pub(crate) info: OnceLock<Peer>,
    /// Whether a connector thread of this node is dialling the peer.
    pub(crate) dialling: std::sync::atomic::AtomicBool,
    /// Why the connection could not be set up, for `Node::connect`.
    pub(crate) failure: Mutex<Option<crate::error::ConnectError>>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("id", &self.id)
            .field("peer", &self.peer)
            .field("state", &*self.state.lock())
            .finish()
    }
}

/// The socket's write side, for senders that write themselves.
#[derive(Default)]
struct Out {
    /// Set once the connection is up.
    stream: Option<TcpStream>,
    /// The tail of a frame a sender could not finish; it goes out before
    /// anything else (and is counted in `queued` until it has).
    leftover: Vec<u8>,
}

/// How long a connection must have been written nothing for a sender to
/// write its frame itself: well above the cost of a write on loopback, so
/// that a burst of frames goes to the writer thread after its first.
const QUIET: Duration = Duration::from_micros(20);

/// The frame that wakes a writer to look at the connection's state.
const WAKE: Vec<u8> = Vec::new();

impl Conn {
    pub(crate) fn new(id: u64, peer: Atom) -> Conn {
        let (tx, rx) = crossbeam_channel::unbounded();
        Conn {
            id,
            peer,
            tx,
            rx: Mutex::new(Some(rx)),
            state: Mutex::new(ConnState::Pending),
            changed: Condvar::new(),
            queued: AtomicUsize::new(0),
            last_recv: AtomicU64::new(0),
            socket: Mutex::new(None),
            out: Mutex::new(Out::default()),
            last_write: AtomicU64::new(0),
            epoch: Instant::now(),
            info: OnceLock::new(),
            dialling: std::sync::atomic::AtomicBool::new(false),
            failure: Mutex::new(None),
        }
    }

    pub(crate) fn state(&self) -> ConnState {
        self.state.lock().clone()
    }

    pub(crate) fn is_up(&self) -> bool {
        *self.state.lock() == ConnState::Up
    }

    pub(crate) fn is_down(&self) -> bool {
        matches!(*self.state.lock(), ConnState::Down(_))
    }

    /// Queues a frame. With `may_block`, a sender that finds more than
    /// `busy_limit` bytes queued waits until the writer has caught up (or
    /// the connection is lost), like a BEAM process on a busy distribution
    /// port. The reader thread and proxies never block.
    pub(crate) fn send(&self, frame: Vec<u8>, may_block: bool, busy_limit: usize) {
        if self.is_down() {
            return;
        }
        let frame = if self.queued.load(Acquire) == 0 && self.is_quiet() {
            match self.try_send_now(frame) {
                Ok(()) => return,
                Err(frame) => frame,
            }
        } else {
            frame
        };
        let len = frame.len();
        let queued = self.queued.fetch_add(len, AcqRel) + len;
        if self.tx.send(frame).is_err() {
            return;
        }
        if may_block && queued > busy_limit {
            self.wait_for_room(busy_limit);
        }
    }

    /// Whether nothing has been written for [`QUIET`]; stamps the time of
    /// this write if so, so that a burst's second frame finds it busy.
    fn is_quiet(&self) -> bool {
        let now = self.now();
        let last = self.last_write.load(Relaxed);
        if now.saturating_sub(last) < QUIET.as_nanos() as u64 {
            return false;
        }
        self.last_write.store(now, Relaxed);
        true
    }

    /// Marks a write by the writer thread.
    fn wrote(&self) {
        self.last_write.store(self.now(), Relaxed);
    }

    /// Nanoseconds since `epoch`, plus [`QUIET`]: a new connection, whose
    /// `last_write` is zero, is quiet from the start.
    fn now(&self) -> u64 {
        (self.epoch.elapsed() + QUIET).as_nanos() as u64
    }

    /// Writes `frame` on this thread if nothing is queued and nobody is
    /// writing; gives it back otherwise. What the socket does not take at
    /// once becomes the leftover, and the writer thread is woken for it.
    fn try_send_now(&self, frame: Vec<u8>) -> Result<(), Vec<u8>> {
        let Some(mut out) = self.out.try_lock() else {
            return Err(frame);
        };
        // Under `out`: a frame counted in `queued` is not on the socket
        // yet, and this one must not pass it.
        if self.queued.load(Acquire) != 0 {
            return Err(frame);
        }
        let Some(stream) = &out.stream else {
            return Err(frame);
        };
        let sent = send_now(stream, &frame);
        if sent < frame.len() {
            let rest = frame.len() - sent;
            if sent == 0 {
                out.leftover = frame;
            } else {
                out.leftover.extend_from_slice(&frame[sent..]);
            }
            self.queued.fetch_add(rest, AcqRel);
            drop(out);
            let _ = self.tx.send(WAKE);
        }
        Ok(())
    }

    #[cold]
    fn wait_for_room(&self, busy_limit: usize) {
        let wait = || {
            let mut state = self.state.lock();
            while self.queued.load(Acquire) > busy_limit / 2
                && !matches!(*state, ConnState::Down(_))
            {
                self.changed
                    .wait_for(&mut state, Duration::from_millis(100));
            }
        };
        if rotp_runtime::self_pid().is_some() {
            rotp_runtime::blocking(wait);
        } else {
            wait();
        }
    }

    /// Waits until the connection is up or down, or `timeout` passes;
    /// returns the state then.
    pub(crate) fn wait_settled(&self, timeout: Duration) -> ConnState {
        let deadline = Instant::now() + timeout;
        let mut state = self.state.lock();
        while *state == ConnState::Pending {
            if self.changed.wait_until(&mut state, deadline).timed_out() {
                break;
            }
        }
        state.clone()
    }

    /// Marks the connection lost; true if this call did it (the caller
    /// then tells everything that crossed it).
    pub(crate) fn mark_down(&self, reason: NodeDownReason) -> bool {
        {
            let mut state = self.state.lock();
            if matches!(*state, ConnState::Down(_)) {
                return false;
            }
            *state = ConnState::Down(reason);
        }
        self.changed.notify_all();
        if let Some(s) = self.socket.lock().take() {
            let _ = s.shutdown(Shutdown::Both);
        }
        let _ = self.tx.send(WAKE);
        true
    }

    fn mark_recv(&self, since_start: Duration) {
        self.last_recv
            .store(since_start.as_millis() as u64, Relaxed);
    }
}

/// Attaches a socket that finished its handshake: starts the reader and
/// writer. Returns false (and leaves the socket alone) if the connection
/// is no longer pending.
pub(crate) fn attach(
    shared: &Arc<Shared>,
    conn: &Arc<Conn>,
    stream: TcpStream,
    peer: Peer,
) -> bool {
    let tick = shared.opts.tick_time;
    let setup = (|| -> io::Result<(TcpStream, TcpStream, TcpStream)> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(None)?;
        // A peer that stops reading must not hold the writer forever.
        stream.set_write_timeout(Some(tick))?;
        Ok((
            stream.try_clone()?,
            stream.try_clone()?,
            stream.try_clone()?,
        ))
    })();
    let (read_half, kill_half, send_half) = match setup {
        Ok(halves) => halves,
        Err(e) => {
            crate::report::warn(format_args!(
                "connection to {}: cannot set up the socket: {e}",
                peer.name
            ));
            return false;
        }
    };
    let rx = {
        let mut state = conn.state.lock();
        if *state != ConnState::Pending {
            return false;
        }
        *state = ConnState::Up;
        let _ = conn.info.set(peer);
        *conn.socket.lock() = Some(kill_half);
        conn.out.lock().stream = Some(send_half);
        conn.rx.lock().take()
    };
    conn.changed.notify_all();
    conn.mark_recv(shared.started.elapsed());
    let Some(rx) = rx else {
        return false;
    };
    let weak = Arc::downgrade(shared);
    let c = conn.clone();
    let name = format!("rotp-dist-write-{}", conn.peer);
    let writer = std::thread::Builder::new()
        .name(name)
        .spawn(move || write_loop(weak, c, stream, rx));
    let weak = Arc::downgrade(shared);
    let c = conn.clone();
    let name = format!("rotp-dist-read-{}", conn.peer);
    let reader = std::thread::Builder::new()
        .name(name)
        .spawn(move || read_loop(weak, c, read_half));
    if writer.is_err() || reader.is_err() {
        crate::report::error(format_args!(
            "connection to {}: cannot start its threads",
            conn.peer
        ));
        shared.on_down(conn, NodeDownReason::ConnectionClosed);
        return false;
    }
    true
}

fn write_loop(shared: Weak<Shared>, conn: Arc<Conn>, stream: TcpStream, rx: Receiver<Vec<u8>>) {
    let Some((tick, started, busy_limit)) = shared
        .upgrade()
        .map(|s| (s.opts.tick_time, s.started, s.opts.busy_limit))
    else {
        return;
    };
    let tick_every = tick / 4;
    let mut out = BufWriter::with_capacity(64 * 1024, stream);
    let mut last_sent = Instant::now();
    let result: Result<(), NodeDownReason> = (|| loop {
        let wait = tick_every
            .saturating_sub(last_sent.elapsed())
            .max(Duration::from_millis(1));
        // What to write: frames (`Some(Some(first))`), a tick
        // (`Some(None)`), or nothing yet.
        let write = match rx.recv_timeout(wait) {
            Ok(frame) => Some(Some(frame)),
            Err(RecvTimeoutError::Timeout) => (last_sent.elapsed() >= tick_every).then_some(None),
            Err(RecvTimeoutError::Disconnected) => return Err(NodeDownReason::ConnectionClosed),
        };
        if let Some(first) = write {
            let written = write_out(&conn, &mut out, first, &rx)?;
            conn.wrote();
            last_sent = Instant::now();
            let before = conn.queued.fetch_sub(written, AcqRel);
            if before > busy_limit / 2 && before - written <= busy_limit / 2 {
                let _guard = conn.state.lock();
                conn.changed.notify_all();
            }
        }
        if conn.is_down() {
            return Ok(());
        }
        let since = started.elapsed().as_millis() as u64;
        if since.saturating_sub(conn.last_recv.load(Relaxed)) > tick.as_millis() as u64 {
            return Err(NodeDownReason::TickTimeout);
        }
    })();
    if let Err(reason) = result {
        if let Some(shared) = shared.upgrade() {
            shared.on_down(&conn, reason);
        }
    }
}

/// One write of the writer thread, holding `out`: the leftover of a
/// sender's frame first, then `first` and whatever else is queued
/// (coalesced into one write), or with no `first` a tick. Returns the
/// bytes written that were counted in `queued`.
fn write_out(
    conn: &Conn,
    out: &mut BufWriter<TcpStream>,
    first: Option<Vec<u8>>,
    rx: &Receiver<Vec<u8>>,
) -> Result<usize, NodeDownReason> {
    let mut own = conn.out.lock();
    // Nothing may come between a frame's head, which a sender wrote, and
    // its tail: not a frame, not a tick.
    let leftover = std::mem::take(&mut own.leftover);
    let mut written = leftover.len();
    write_frame(out, &leftover)?;
    match first {
        Some(frame) => {
            written += frame.len();
            write_frame(out, &frame)?;
            while out.buffer().len() < 48 * 1024 {
                match rx.try_recv() {
                    Ok(frame) => {
                        written += frame.len();
                        write_frame(out, &frame)?;
                    }
                    Err(_) => break,
                }
            }
        }
        None => out.write_all(&[0, 0, 0, 0]).map_err(closed)?,
    }
    out.flush().map_err(closed)?;
    drop(own);
    Ok(written)
}

/// Writes a frame (an empty one only wakes the writer).
fn write_frame(out: &mut BufWriter<TcpStream>, frame: &[u8]) -> Result<(), NodeDownReason> {
    if frame.is_empty() {
        return Ok(());
    }
    out.write_all(frame).map_err(closed)
}

fn closed(e: io::Error) -> NodeDownReason {
    log::debug!("distribution write failed: {e}");
    NodeDownReason::ConnectionClosed
}

fn read_loop(shared: Weak<Shared>, conn: Arc<Conn>, stream: TcpStream) {
    let Some((started, max_frame)) = shared.upgrade().map(|s| (s.started, s.opts.max_frame)) else {
        return;
    };
    let mut input = BufReader::with_capacity(64 * 1024, stream);
    let mut body = Vec::new();
    let reason = loop {
        let mut len = [0u8; 4];
        if input.read_exact(&mut len).is_err() {
            break NodeDownReason::ConnectionClosed;
        }
        conn.mark_recv(started.elapsed());
        let len = u32::from_be_bytes(len) as usize;
        if len == 0 {
            continue; // a tick
        }
        if len > max_frame {
            crate::report::warn(format_args!(
                "connection to {}: dropped a frame of {len} bytes (the limit is {max_frame})",
                conn.peer
            ));
            if skip(&mut input, len, &conn, started).is_err() {
                break NodeDownReason::ConnectionClosed;
            }
            continue;
        }
        if read_body(&mut input, len, &mut body, &conn, started).is_err() {
            break NodeDownReason::ConnectionClosed;
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        crate::router::dispatch(&shared, &conn, &body);
        if body.capacity() > 1 << 20 {
            body = Vec::new();
        }
    };
    if let Some(shared) = shared.upgrade() {
        shared.on_down(&conn, reason);
    }
}

/// Reads a frame body of `len` bytes, growing the buffer as bytes arrive
/// (a length field alone cannot make the node allocate).
fn read_body(
    input: &mut impl Read,
    len: usize,
    body: &mut Vec<u8>,
    conn: &Conn,
    started: Instant,
) -> io::Result<()> {
    body.clear();
    let mut chunk = [0u8; 16 * 1024];
    while body.len() < len {
        let want = (len - body.len()).min(chunk.len());
        let n = input.read(&mut chunk[..want])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        body.extend_from_slice(&chunk[..n]);
        conn.mark_recv(started.elapsed());
    }
    Ok(())
}

/// Reads and drops `len` bytes.
fn skip(input: &mut impl Read, mut len: usize, conn: &Conn, started: Instant) -> io::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    while len > 0 {
        let n = input.read(&mut chunk[..len.min(16 * 1024)])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        len -= n;
        conn.mark_recv(started.elapsed());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A connection that is up on a loopback socket, with no threads: the
    /// test plays the writer thread. Returns the peer's end too.
    fn up() -> (Conn, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (theirs, _) = listener.accept().unwrap();
        let conn = Conn::new(1, Atom::new("peer@127.0.0.1"));
        *conn.state.lock() = ConnState::Up;
        conn.out.lock().stream = Some(ours);
        (conn, theirs)
    }

    #[test]
    fn a_quiet_connection_writes_on_the_senders_thread() {
        let (conn, mut theirs) = up();
        conn.send(vec![0, 0, 0, 1, 42], true, 1 << 20);
        let mut got = [0u8; 5];
        theirs.read_exact(&mut got).unwrap();
        assert_eq!(got, [0, 0, 0, 1, 42]);
        assert_eq!(conn.queued.load(Acquire), 0);
        let rx = conn.rx.lock().take().unwrap();
        assert!(rx.try_recv().is_err(), "nothing went to the writer thread");
    }

    #[test]
    fn a_frame_never_passes_the_unwritten_tail_of_another() {
        let (conn, _theirs) = up();
        // More than the socket's buffers hold, with nobody reading.
        let big = vec![1u8; 64 << 20];
        conn.send(big, false, usize::MAX);
        let tail = conn.out.lock().leftover.len();
        assert!(tail > 0, "the socket took all of 64 MiB");
        assert_eq!(conn.queued.load(Acquire), tail);

        // However quiet the connection looks, the next frame queues
        // behind the tail, and the writer thread was woken for it.
        conn.last_write.store(0, Relaxed);
        conn.send(vec![0, 0, 0, 1, 2], false, usize::MAX);
        let rx = conn.rx.lock().take().unwrap();
        assert_eq!(rx.try_recv().unwrap(), WAKE);
        assert_eq!(rx.try_recv().unwrap(), vec![0, 0, 0, 1, 2]);
        assert_eq!(conn.queued.load(Acquire), tail + 5);
    }

    #[test]
    fn a_tick_goes_out_after_the_tail_of_a_frame_a_sender_began() {
        let (conn, mut theirs) = up();
        let (_, rx) = crossbeam_channel::unbounded();
        let stream = conn
            .out
            .lock()
            .stream
            .as_ref()
            .unwrap()
            .try_clone()
            .unwrap();
        let mut out = BufWriter::new(stream);
        // A sender wrote "0 0 0 3 a" of a five-byte frame; "b c" is left.
        conn.out.lock().leftover = b"bc".to_vec();
        assert_eq!(write_out(&conn, &mut out, None, &rx).unwrap(), 2);
        let mut got = [0u8; 6];
        theirs.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"bc\0\0\0\0");
        assert!(conn.out.lock().leftover.is_empty());
    }

    #[test]
    fn a_sender_does_not_write_while_someone_else_is() {
        let (conn, _theirs) = up();
        let writing = conn.out.lock();
        conn.send(vec![0, 0, 0, 1, 3], false, usize::MAX);
        drop(writing);
        let rx = conn.rx.lock().take().unwrap();
        assert_eq!(rx.try_recv().unwrap(), vec![0, 0, 0, 1, 3]);
    }
}
