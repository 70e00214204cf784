//! Per-entity workers named through a Registry: one Agent per account,
//! started under the account's id (`{:via, Registry, {Accounts, id}}`),
//! found by id from anywhere, listed, and forgotten when they exit — the
//! "adapter worker" and "contract by id" patterns.
//!
//! `cargo run --example registry_workers`

use rotp::prelude::*;

/// Starts (or finds) the worker of account `id`.
fn account(
    rt: &Runtime,
    accounts: &Registry<u64, &'static str>,
    id: u64,
    tier: &'static str,
) -> Agent<i64> {
    match Agent::start(
        rt,
        || 0i64,
        StartOptions::new().name(accounts.via_value(id, tier)),
    ) {
        Ok(agent) => agent,
        // Someone started it first: use theirs.
        Err(StartError::AlreadyStarted(_)) => Agent::named(rt, accounts.via(id)),
        Err(e) => panic!("account {id}: {e}"),
    }
}

pub(crate) fn run() {
    let rt = Runtime::new().unwrap();
    let accounts: Registry<u64, &'static str> =
        Registry::start(&rt, RegistryOptions::new(Keys::Unique).name("accounts")).unwrap();

    for (id, tier) in [(1, "gold"), (2, "basic"), (3, "gold")] {
        account(&rt, &accounts, id, tier)
            .update(move |b| b + id as i64 * 100)
            .unwrap();
    }
    // The same id reaches the same worker.
    account(&rt, &accounts, 2, "basic")
        .update(|b| b + 5)
        .unwrap();

    // Anyone finds a worker by id, without asking a server.
    let two = Agent::<i64>::named(&rt, accounts.via(2));
    assert_eq!(two.get(|b| *b).unwrap(), 205);

    // List: every gold account, straight from the registry.
    let mut gold = accounts
        .select(|id, _pid, tier| (*tier == "gold").then_some(*id))
        .unwrap();
    gold.sort_unstable();
    assert_eq!(gold, [1, 3]);
    println!("gold accounts: {gold:?}");

    // A worker that exits is forgotten at once.
    two.stop(ExitReason::Normal, None).unwrap();
    assert!(accounts.lookup(&2).unwrap().is_empty());
    assert_eq!(accounts.count().unwrap(), 2);

    // The registry is found by name, too.
    let again = Registry::<u64, &'static str>::whereis(&rt, "accounts").unwrap();
    assert_eq!(again.whereis_key(&1), accounts.whereis_key(&1));
}

#[allow(dead_code)]
fn main() {
    run();
}
