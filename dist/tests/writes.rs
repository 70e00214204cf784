//! How frames leave a node: a sender writes its frame itself when the
//! connection is quiet, but never waits for room in the socket, and
//! frames leave in the order they were sent even when the socket takes
//! only part of one.

mod common;

use std::sync::mpsc;

use common::{cookie, init_log, unique, TIMEOUT};
use rotp_dist::testing::RawPeer;
use rotp_dist::{Node, Term};
use rotp_runtime::Runtime;

#[test]
fn a_frame_larger_than_the_socket_takes_leaves_whole_and_first_and_no_worker_waits() {
    init_log();
    let c = cookie();
    // One worker: a sender that waited for the peer to read would hold
    // the only worker, and the test would time out below.
    let rt = Runtime::builder().workers(1).build().unwrap();
    let node = Node::builder(&format!("{}@127.0.0.1", unique("rotp")))
        .cookie(&c)
        .busy_limit(1 << 30)
        .start(&rt)
        .unwrap();
    let mut peer = RawPeer::connect(
        node.name().as_str(),
        &format!("{}@127.0.0.1", unique("fake")),
        &c,
    )
    .unwrap();
    let to = peer.pid(7);

    // Far more than a loopback socket's buffers hold: the first write
    // takes part of it, and the rest waits for the writer thread.
    let big = Term::Binary(vec![0xAB; 32 << 20]);
    const SMALL: i64 = 100;
    let (done_tx, done) = mpsc::channel();
    let sender = {
        let node = node.clone();
        rt.spawn_fn(move |(): (), _ctx| {
            node.send(to.clone(), big.clone()).unwrap();
            for i in 0..SMALL {
                node.send(to.clone(), Term::Int(i)).unwrap();
            }
            let _ = done_tx.send(());
        })
    };
    sender.send(());
    // The peer has read nothing yet.
    done.recv_timeout(TIMEOUT)
        .expect("the sender returned while the peer was not reading");
    let (probe_tx, probe) = mpsc::channel();
    rt.spawn_fn(move |(): (), _ctx| {
        let _ = probe_tx.send(());
    })
    .send(());
    probe
        .recv_timeout(TIMEOUT)
        .expect("the worker runs other processes");

    let first = peer.recv_frame(TIMEOUT).unwrap();
    let tail = Term::Binary(vec![0xAB; 32 << 20]).to_bytes().unwrap();
    assert!(
        first.len() > tail.len() && first.ends_with(&tail),
        "the large frame comes first and whole ({} bytes)",
        first.len()
    );
    for i in 0..SMALL {
        let frame = peer.recv_frame(TIMEOUT).unwrap();
        let msg = Term::Int(i).to_bytes().unwrap();
        assert!(
            frame.ends_with(&msg),
            "frame {i} carries message {i}: {frame:?}"
        );
    }
}
