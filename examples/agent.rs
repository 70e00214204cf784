//! Agent: state behind a process, changed by the functions you send it —
//! for when a whole GenServer would be ceremony.
//!
//! ```elixir
//! {:ok, cart} = Agent.start_link(fn -> %{} end)
//! Agent.update(cart, &Map.update(&1, "apple", 1, fn n -> n + 1 end))
//! Agent.get(cart, &Map.get(&1, "apple"))
//! ```
//!
//! The functions run inside the agent, one at a time, so a
//! read-modify-write (`get_and_update`) is atomic. A function that panics
//! crashes the agent, and its caller gets the panic back as an error value.
//!
//! Run with `cargo run --example agent`.

use std::collections::BTreeMap;
use std::time::Duration;

use rotp::prelude::*;

type Cart = BTreeMap<String, u32>;

fn add(cart: &Agent<Cart>, item: &str, n: u32) {
    let item = item.to_owned();
    cart.update(move |mut c| {
        *c.entry(item).or_default() += n;
        c
    })
    .unwrap();
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");

    // The init function runs inside the new process; its result is the
    // state. A name makes the agent easy to find.
    let cart = Agent::start(&rt, Cart::new, StartOptions::new().name("cart")).unwrap();
    add(&cart, "apple", 2);
    add(&cart, "pear", 1);
    // Casts return at once; they are applied in order, before later calls.
    cart.cast(|mut c| {
        *c.entry("apple".into()).or_default() += 1;
        c
    });
    assert_eq!(cart.get(|c| c.get("apple").copied()).unwrap(), Some(3));

    // Many clients, no lost updates: each function runs alone.
    let shoppers: Vec<_> = (0..4)
        .map(|_| {
            let cart = Agent::<Cart>::named(&rt, "cart");
            std::thread::spawn(move || (0..25).for_each(|_| add(&cart, "plum", 1)))
        })
        .collect();
    shoppers.into_iter().for_each(|s| s.join().unwrap());
    assert_eq!(cart.get(|c| c["plum"]).unwrap(), 100);

    // Checkout: read and reset in one atomic step.
    let bought = cart.get_and_update(|c| (c, Cart::new())).unwrap();
    assert_eq!(bought.values().sum::<u32>(), 104);
    assert!(cart.get(Cart::is_empty).unwrap());
    println!("checked out {bought:?}");

    // A function that panics takes the agent down; the caller gets the
    // reason as a value and carries on.
    let err = cart
        .get(|c| c["durian"]) // no such key: index panics
        .unwrap_err();
    assert!(matches!(&err, CallError::Exited(ExitReason::Panic(_))));
    println!("a panicking function: {err}");
    assert!(!cart.is_alive());

    // Start a fresh one under the same name; named handles find it. The
    // error can reach us a moment before the dead agent has released its
    // name, so wait for its exit to complete first.
    if let Some(dead) = cart.pid().and_then(|pid| rt.process_ref(pid)) {
        dead.await_exit(Some(Duration::from_secs(5)));
    }
    let cart = Agent::start(&rt, Cart::new, StartOptions::new().name("cart")).unwrap();
    add(&Agent::named(&rt, "cart"), "fig", 1);
    assert_eq!(cart.get(|c| c.len()).unwrap(), 1);

    // Stop it explicitly (waits for the exit).
    cart.stop(ExitReason::Normal, Some(Duration::from_secs(5)))
        .expect("the cart stops");
    assert_eq!(cart.get(|c| c.len()), Err(CallError::NoProc));

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("agent: ok");
}
