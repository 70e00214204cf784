//! What a hostile or broken peer sends is refused without harm: the
//! connection stays up, receivers that asked get typed errors, and
//! everything else keeps working.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{cookie, init_log, unique, Erl, TIMEOUT};
use rotp_dist::testing::RawPeer;
use rotp_dist::{BadMessage, ConnectError, DecodeError, Node, Term};
use rotp_runtime::Runtime;

fn node_with_inbox(c: &str) -> (Runtime, Node, mpsc::Receiver<Result<Term, BadMessage>>) {
    let rt = Runtime::builder().workers(2).build().unwrap();
    let node = Node::builder(&format!("{}@127.0.0.1", unique("rotp")))
        .cookie(c)
        .max_frame(64 * 1024)
        .start(&rt)
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let inbox = rt.spawn_fn(move |m: Result<Term, BadMessage>, _ctx| {
        let _ = tx.send(m);
    });
    node.register("inbox", &inbox).unwrap();
    (rt, node, rx)
}

fn fake_name() -> String {
    format!("{}@127.0.0.1", unique("fake"))
}

#[test]
fn malformed_messages_reach_the_receiver_as_errors_and_the_connection_survives() {
    init_log();
    let c = cookie();
    let (_rt, node, rx) = node_with_inbox(&c);
    let mut peer = RawPeer::connect(node.name().as_str(), &fake_name(), &c).unwrap();

    // Not a term.
    peer.reg_send("inbox", &[131, 255, 1, 2]).unwrap();
    match rx.recv_timeout(TIMEOUT).unwrap() {
        Err(BadMessage::Undecodable { error, len }) => {
            assert_eq!(error, DecodeError::UnknownTag(255));
            assert_eq!(len, 4);
        }
        other => panic!("expected Undecodable, got {other:?}"),
    }
    // A list that claims four billion elements.
    peer.reg_send("inbox", &[131, 108, 255, 255, 255, 255, 106])
        .unwrap();
    assert!(matches!(
        rx.recv_timeout(TIMEOUT).unwrap(),
        Err(BadMessage::Undecodable {
            error: DecodeError::Truncated,
            ..
        })
    ));
    // Nesting deeper than the limit.
    let mut deep = vec![131];
    for _ in 0..10_000 {
        deep.extend_from_slice(&[104, 1]);
    }
    deep.push(106);
    peer.reg_send("inbox", &deep).unwrap();
    assert!(matches!(
        rx.recv_timeout(TIMEOUT).unwrap(),
        Err(BadMessage::Undecodable {
            error: DecodeError::TooDeep(_),
            ..
        })
    ));
    // A well-formed message still arrives, in order.
    peer.reg_send("inbox", &Term::atom("still_here").to_bytes().unwrap())
        .unwrap();
    assert_eq!(
        rx.recv_timeout(TIMEOUT).unwrap().unwrap(),
        Term::atom("still_here")
    );
    assert_eq!(node.nodes().len(), 1, "the peer is still connected");
}

#[test]
fn broken_frames_are_dropped_and_the_connection_survives() {
    init_log();
    let c = cookie();
    let (_rt, node, rx) = node_with_inbox(&c);
    let mut peer = RawPeer::connect(node.name().as_str(), &fake_name(), &c).unwrap();

    // Not the pass-through format.
    peer.send_frame(&[68, 1, 2, 3]).unwrap();
    // A control message that is not a term.
    peer.send_frame(&[112, 131, 200]).unwrap();
    // A control message of the wrong shape.
    peer.send_control(&Term::atom("hello"), &[]).unwrap();
    peer.send_control(&Term::tuple(vec![Term::Int(6), Term::atom("x")]), &[])
        .unwrap();
    // An unknown operation.
    peer.send_control(&Term::tuple(vec![Term::Int(99)]), &[])
        .unwrap();
    // A frame over the node's limit (64 KiB here): read and dropped.
    let mut big = vec![112];
    big.extend(std::iter::repeat_n(0u8, 100 * 1024));
    peer.send_frame(&big).unwrap();
    // A signal that claims to come from another node's process.
    let spoofed = Term::tuple(vec![
        Term::Int(8),
        Term::Pid(rotp_dist::RemotePid::new(
            rotp_dist::Atom::new("someone_else@127.0.0.1"),
            1,
            0,
            1,
        )),
        Term::Pid(node.pid_of(node.handle().whereis("inbox").unwrap())),
        Term::atom("kill"),
    ]);
    peer.send_control(&spoofed, &[]).unwrap();

    peer.reg_send("inbox", &Term::atom("after").to_bytes().unwrap())
        .unwrap();
    assert_eq!(
        rx.recv_timeout(TIMEOUT).unwrap().unwrap(),
        Term::atom("after")
    );
    assert!(
        node.handle().whereis("inbox").is_some(),
        "the spoofed kill was ignored"
    );
    assert_eq!(node.nodes().len(), 1);
}

#[test]
fn garbage_instead_of_a_handshake_harms_nothing() {
    init_log();
    let c = cookie();
    let (_rt, node, _rx) = node_with_inbox(&c);
    for junk in [
        &b"GET / HTTP/1.0\r\n\r\n"[..],
        &[0, 0],
        &[255, 255, 1, 2, 3],
        &[0, 5, b'N'],
    ] {
        let mut s = std::net::TcpStream::connect(node.listen_addr()).unwrap();
        use std::io::Write;
        let _ = s.write_all(junk);
    }
    // A real node still gets in.
    let mut erl = Erl::start(&c);
    assert_eq!(
        erl.eval(&format!("net_adm:ping('{}')", node.name().as_str())),
        "pong"
    );
}

#[test]
fn a_peer_with_a_wrong_cookie_is_refused() {
    init_log();
    let (_rt, node, _rx) = node_with_inbox(&cookie());
    match RawPeer::connect(node.name().as_str(), &fake_name(), "not-the-cookie") {
        Err(ConnectError::BadCookie) => {}
        other => panic!("expected BadCookie, got {other:?}"),
    }
    assert!(node.nodes().is_empty());
}

#[test]
fn the_node_answers_over_a_raw_connection() {
    init_log();
    let c = cookie();
    let (rt, node, _rx) = node_with_inbox(&c);
    let n = node.clone();
    let echo = rt.spawn_fn(move |t: Term, _ctx| {
        if let Some([Term::Pid(from), body]) = t.as_tuple() {
            n.send(from, body).unwrap();
        }
    });
    node.register("echo", &echo).unwrap();
    let mut peer = RawPeer::connect(node.name().as_str(), &fake_name(), &c).unwrap();
    let msg = Term::tuple(vec![Term::Pid(peer.pid(7)), Term::atom("ping")]);
    peer.reg_send("echo", &msg.to_bytes().unwrap()).unwrap();
    let frame = peer.recv_frame(Duration::from_secs(10)).unwrap();
    // 112, the SEND_SENDER control, then the message.
    assert_eq!(frame[0], 112);
    let tail = &frame[frame.len() - 7..];
    assert_eq!(tail, Term::atom("ping").to_bytes().unwrap().as_slice());
}

#[test]
fn a_handshake_trickled_byte_by_byte_is_cut_off() {
    init_log();
    let c = cookie();
    let rt = Runtime::builder().workers(1).build().unwrap();
    let node = Node::builder(&format!("{}@127.0.0.1", unique("rotp")))
        .cookie(&c)
        .setup_timeout(Duration::from_secs(1))
        .start(&rt)
        .unwrap();
    let mut s = std::net::TcpStream::connect(node.listen_addr()).unwrap();
    let mut writer = s.try_clone().unwrap();
    // A plausible send_name header, one byte at a time, for far longer
    // than the setup timeout.
    std::thread::spawn(move || {
        use std::io::Write;
        for b in std::iter::repeat_n([0u8, 40, b'N'], 30).flatten() {
            if writer.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    use std::io::Read;
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut buf = [0u8; 16];
    match s.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the node to close the connection, got {other:?}"),
    }
}
