//! Publish/subscribe over a duplicate-key Registry: subscribers register
//! under a topic, a publisher dispatches to whoever is subscribed now, and
//! a subscriber that exits stops receiving without unsubscribing.
//!
//! `cargo run --example pubsub`

use std::sync::mpsc;
use std::time::Duration;

use rotp::prelude::*;

/// A subscriber's messages.
enum Msg {
    Subscribe(&'static str),
    Event(String),
}

pub(crate) fn run() {
    let rt = Runtime::new().unwrap();
    let topics: Registry<&'static str, ()> =
        Registry::start(&rt, RegistryOptions::new(Keys::Duplicate)).unwrap();

    let (tx, rx) = mpsc::channel();
    let subscriber = |name: &'static str| {
        let (topics, tx) = (topics.clone(), tx.clone());
        rt.spawn_fn(move |msg: Msg, _ctx| match msg {
            Msg::Subscribe(topic) => topics.register(topic, ()).unwrap(),
            Msg::Event(e) => tx.send(format!("{name} got {e}")).unwrap(),
        })
    };
    let alice = subscriber("alice");
    let bob = subscriber("bob");
    alice.send(Msg::Subscribe("news"));
    bob.send(Msg::Subscribe("news"));
    bob.send(Msg::Subscribe("sports"));
    let subscribed =
        rotp::runtime::testing::wait_until(Duration::from_secs(5), || topics.count().unwrap() == 3);
    assert!(subscribed);

    // Publishing runs in the publisher: one lookup, one send per subscriber.
    let publish = |topic: &'static str, event: &str| {
        topics
            .dispatch(&topic, |subs| {
                for (pid, ()) in subs {
                    if let Some(addr) = rt.addr_of::<Msg>(*pid) {
                        addr.send(Msg::Event(format!("{topic}: {event}")));
                    }
                }
            })
            .unwrap();
    };
    publish("news", "rotp has a Registry");
    let mut got: Vec<String> = (0..2)
        .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "alice got news: rotp has a Registry",
            "bob got news: rotp has a Registry"
        ]
    );

    // Bob leaves; his subscriptions go with him.
    rt.kill(bob.pid());
    rt.await_exit(&bob, None);
    assert_eq!(topics.count().unwrap(), 1);
    publish("sports", "nobody listens");
    publish("news", "second edition");
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        "alice got news: second edition"
    );
    println!("pubsub: delivered to the live subscribers only");
}

#[allow(dead_code)]
fn main() {
    run();
}
