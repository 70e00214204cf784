//! Writing to a socket without waiting for room in it.
//!
//! A connection's writer thread writes with blocking writes (bounded by
//! the socket's write timeout). A sender that finds the connection idle
//! may instead write its frame itself and save the hand-off to the writer
//! thread, but it must never wait: it may be a scheduler worker, and a
//! peer that stops reading would then hold a worker. So it writes with
//! `MSG_DONTWAIT`, which takes what fits in the socket's buffer and
//! returns; the rest goes to the writer thread.
//!
//! `O_NONBLOCK` on the socket would do the same but is shared by every
//! handle to it, the writer's and the reader's too; a flag on the one
//! call is not.

use std::net::TcpStream;

/// Writes what of `buf` fits in the socket's buffer now; returns how many
/// bytes went. An error of any kind (the buffer is full, the connection
/// is lost) returns what went before it: the caller hands the rest to the
/// writer thread, whose blocking write sees a lost connection for itself.
#[cfg(unix)]
pub(crate) fn send_now(stream: &TcpStream, buf: &[u8]) -> usize {
    use std::os::fd::AsRawFd;

    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    const FLAGS: libc::c_int = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    // Elsewhere a write to a closed socket may raise SIGPIPE, which the
    // Rust runtime ignores in programs it starts.
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    const FLAGS: libc::c_int = libc::MSG_DONTWAIT;

    let fd = stream.as_raw_fd();
    let mut sent = 0;
    while sent < buf.len() {
        let rest = &buf[sent..];
        // SAFETY: `fd` is the open socket `stream` owns, borrowed for the
        // whole call; the pointer and length describe `rest`, a live slice
        // that `send` only reads.
        let n = unsafe { libc::send(fd, rest.as_ptr().cast(), rest.len(), FLAGS) };
        if n > 0 {
            sent += n as usize;
        } else if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {
            continue;
        } else {
            break;
        }
    }
    sent
}

/// Without a non-blocking send, everything goes to the writer thread.
#[cfg(not(unix))]
pub(crate) fn send_now(_stream: &TcpStream, _buf: &[u8]) -> usize {
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn what_fits_goes_and_a_full_socket_does_not_wait() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let tx = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut rx, _) = listener.accept().unwrap();

        assert_eq!(send_now(&tx, b"hello"), 5);
        let mut got = [0u8; 5];
        rx.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");

        // Nobody reads: the buffers fill, and then a send returns having
        // taken nothing instead of waiting (a blocking write would hang
        // this test).
        let chunk = vec![7u8; 1 << 20];
        let mut total = 0usize;
        while send_now(&tx, &chunk) > 0 {
            total += chunk.len();
            assert!(total < 1 << 30, "a socket nobody reads took a gigabyte");
        }
    }

    #[test]
    fn a_lost_connection_sends_nothing() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let tx = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        drop(listener.accept().unwrap());
        tx.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(send_now(&tx, b"late"), 0);
    }
}
