//! `Table`: kinds, access rights, ownership, heirs, names, bad input.

mod common;

use std::hash::{Hash, Hasher};
use std::sync::mpsc;
use std::thread;

use common::{as_process, each_runtime, in_process, puppet, TIMEOUT};
use rotp_runtime::testing::Gate;
use rotp_runtime::{Context, Down, Handle, Pid, Process};
use rotp_store::{Access, Kind, Table, TableError, TableOptions};

fn new_table<K: rotp_store::TableKey, V: rotp_store::TableValue>(
    rt: &Handle,
    owner: &rotp_runtime::Addr<common::Puppet>,
    opts: TableOptions<K, V>,
) -> Table<K, V> {
    let h = rt.clone();
    as_process(owner, move |_| Table::new(&h, opts)).expect("the table is made")
}

#[test]
fn protected_the_owner_writes_and_anyone_reads() {
    each_runtime(|rt| {
        let owner = puppet(rt);
        let t: Table<u64, String> = new_table(rt, &owner, TableOptions::new());
        let t2 = t.clone();
        as_process(&owner, move |_| t2.insert(1, "one".into())).unwrap();
        assert_eq!(t.get(&1).unwrap().as_deref(), Some("one"));
        assert_eq!(t.lookup(&1).unwrap(), ["one".to_string()]);
        assert_eq!(
            t.insert(2, "two".into()),
            Err(TableError::NotOwner { owner: owner.pid() })
        );
        let other = puppet(rt);
        let t3 = t.clone();
        assert_eq!(
            as_process(&other, move |_| t3.delete(&1)),
            Err(TableError::NotOwner { owner: owner.pid() })
        );
        let t4 = t.clone();
        assert_eq!(
            as_process(&other, move |_| t4.get(&1)).unwrap().as_deref(),
            Some("one")
        );
    });
}

#[test]
fn private_and_public_access() {
    each_runtime(|rt| {
        let owner = puppet(rt);
        let private: Table<u8, u8> =
            new_table(rt, &owner, TableOptions::new().access(Access::Private));
        assert!(matches!(private.get(&1), Err(TableError::NotOwner { .. })));
        let p = private.clone();
        assert_eq!(
            as_process(&owner, move |_| {
                p.insert(1, 1)?;
                p.get(&1)
            }),
            Ok(Some(1))
        );
        let public: Table<u8, u8> =
            new_table(rt, &owner, TableOptions::new().access(Access::Public));
        public.insert(1, 2).unwrap();
        assert_eq!(public.get(&1), Ok(Some(2)));
    });
}

#[test]
fn outside_a_process_a_table_needs_an_owner() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    assert_eq!(
        Table::<u8, u8>::new(&rt, TableOptions::new()).unwrap_err(),
        TableError::NoOwner(Pid::ROOT)
    );
    let owner = puppet(&rt);
    let t = Table::<u8, u8>::new(&rt, TableOptions::new().owner(owner.pid())).unwrap();
    assert_eq!(t.owner(), owner.pid());
    rt.kill(owner.pid());
    rt.await_exit(&owner, None);
    assert_eq!(
        Table::<u8, u8>::new(&rt, TableOptions::new().owner(owner.pid())).unwrap_err(),
        TableError::NoOwner(owner.pid())
    );
}

/// Reports, from inside its `DOWN` handler, whether the table was already
/// deleted.
struct Watcher(Table<u8, u8>, mpsc::Sender<bool>);

impl Process for Watcher {
    type Message = Pid;
    fn handle(&mut self, pid: Pid, ctx: &mut Context<'_, Pid>) {
        ctx.monitor(pid);
        let _ = self.1.send(false);
    }
    fn handle_down(&mut self, _: Down, _: &mut Context<'_, Pid>) {
        let _ = self
            .1
            .send(self.0.is_deleted() && self.0.get(&1) == Err(TableError::Deleted));
    }
}

#[test]
fn the_table_is_deleted_when_its_owner_exits_before_monitors_hear() {
    each_runtime(|rt| {
        let owner = puppet(rt);
        let t: Table<u8, u8> = new_table(rt, &owner, TableOptions::new().name("doomed"));
        let (tx, rx) = mpsc::channel();
        let watcher = rt.spawn(Watcher(t.clone(), tx));
        watcher.send(owner.pid());
        assert!(!rx.recv_timeout(TIMEOUT).unwrap());
        assert_eq!(Table::<u8, u8>::whereis(rt, "doomed"), Some(t.clone()));
        rt.kill(owner.pid());
        assert!(rx.recv_timeout(TIMEOUT).unwrap(), "deleted before the DOWN");
        assert_eq!(t.size(), Err(TableError::Deleted));
        assert_eq!(t.insert(1, 1), Err(TableError::Deleted));
        assert_eq!(Table::<u8, u8>::whereis(rt, "doomed"), None);
    });
}

#[test]
fn an_heir_inherits_the_table_and_a_dead_heir_does_not() {
    each_runtime(|rt| {
        let owner = puppet(rt);
        let heir = puppet(rt);
        let (tx, rx) = mpsc::channel();
        let t: Table<u8, u8> = new_table(
            rt,
            &owner,
            TableOptions::new().heir_notify(heir.pid(), move |tr| {
                tx.send((tr.from, tr.table.owner())).unwrap();
            }),
        );
        let t1 = t.clone();
        as_process(&owner, move |_| t1.insert(1, 10)).unwrap();
        rt.kill(owner.pid());
        assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), (owner.pid(), heir.pid()));
        assert_eq!(t.owner(), heir.pid());
        assert_eq!(t.get(&1), Ok(Some(10)));
        let t2 = t.clone();
        as_process(&heir, move |_| t2.insert(2, 20)).unwrap();
        // The heir has no heir: its exit deletes the table.
        rt.kill(heir.pid());
        assert!(rotp_runtime::testing::wait_until(TIMEOUT, || t.is_deleted()));

        let owner = puppet(rt);
        let dead = puppet(rt);
        rt.kill(dead.pid());
        rt.await_exit(&dead, None);
        let t: Table<u8, u8> = new_table(rt, &owner, TableOptions::new().heir(dead.pid()));
        rt.kill(owner.pid());
        rt.await_exit(&owner, None);
        assert!(t.is_deleted());
    });
}

#[test]
fn give_away_moves_the_table_and_delete_table_ends_it() {
    each_runtime(|rt| {
        let owner = puppet(rt);
        let next = puppet(rt);
        let t: Table<u8, u8> = new_table(rt, &owner, TableOptions::new());
        let (t1, to) = (t.clone(), next.pid());
        as_process(&owner, move |_| t1.give_away(to, None)).unwrap();
        assert_eq!(t.owner(), next.pid());
        // The old owner's exit no longer matters.
        rt.kill(owner.pid());
        rt.await_exit(&owner, None);
        assert!(!t.is_deleted());
        assert!(t.give_away(owner.pid(), None).is_err());
        let t2 = t.clone();
        as_process(&next, move |_| t2.delete_table()).unwrap();
        assert_eq!(t.get(&0), Err(TableError::Deleted));
        assert_eq!(t.delete_table(), Err(TableError::Deleted));
    });
}

#[test]
fn kinds_set_bag_duplicate_bag_ordered_set() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let owner = puppet(&rt);
    let public = |kind| {
        TableOptions::new()
            .kind(kind)
            .access(Access::Public)
            .owner(owner.pid())
    };

    let set: Table<&str, u32> = Table::new(&rt, public(Kind::Set)).unwrap();
    set.insert("a", 1).unwrap();
    set.insert("a", 2).unwrap();
    assert_eq!(set.lookup(&"a").unwrap(), [2]);
    assert!(!set.insert_new("a", 3).unwrap());
    assert!(set.insert_new("b", 3).unwrap());
    assert_eq!(set.size().unwrap(), 2);
    set.delete_object(&"a", &99).unwrap();
    assert!(set.member(&"a").unwrap());
    set.delete_object(&"a", &2).unwrap();
    assert!(!set.member(&"a").unwrap());
    assert_eq!(set.take(&"b").unwrap(), [3]);
    assert_eq!(set.size().unwrap(), 0);
    assert!(set.memory().unwrap() > 0);

    let bag: Table<&str, u32> = Table::new(&rt, public(Kind::Bag)).unwrap();
    bag.insert_many([("k", 1), ("k", 2), ("k", 1)]).unwrap();
    assert_eq!(bag.lookup(&"k").unwrap(), [1, 2]);
    assert!(!bag.insert_new("k", 5).unwrap());
    assert_eq!(bag.size().unwrap(), 2);
    assert!(matches!(
        bag.update_element(&"k", |_| {}),
        Err(TableError::WrongKind { .. })
    ));

    let dup: Table<&str, u32> = Table::new(&rt, public(Kind::DuplicateBag)).unwrap();
    dup.insert_many([("k", 1), ("k", 2), ("k", 1)]).unwrap();
    assert_eq!(dup.lookup(&"k").unwrap(), [1, 2, 1]);
    dup.delete_object(&"k", &1).unwrap();
    assert_eq!(dup.lookup(&"k").unwrap(), [2]);
    assert_eq!(dup.size().unwrap(), 1);

    let ordered: Table<u32, &str> = Table::new(
        &rt,
        TableOptions::new()
            .kind(Kind::OrderedSet)
            .access(Access::Public)
            .owner(owner.pid()),
    )
    .unwrap();
    for k in [30, 10, 20] {
        ordered.insert(k, "x").unwrap();
    }
    assert_eq!(ordered.first().unwrap(), Some(10));
    assert_eq!(ordered.next(&10).unwrap(), Some(20));
    assert_eq!(ordered.next(&15).unwrap(), Some(20));
    assert_eq!(ordered.next(&30).unwrap(), None);
    assert_eq!(ordered.last().unwrap(), Some(30));
    assert_eq!(ordered.prev(&30).unwrap(), Some(20));
    assert_eq!(ordered.prev(&10).unwrap(), None);
    assert_eq!(ordered.keys().unwrap(), [10, 20, 30]);
    assert!(matches!(set.first(), Err(TableError::WrongKind { .. })));
}

#[test]
fn counters_elements_and_selects() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let owner = puppet(&rt);
    let t: Table<u32, i64> = Table::new(
        &rt,
        TableOptions::new()
            .access(Access::Public)
            .owner(owner.pid()),
    )
    .unwrap();
    assert_eq!(t.update_counter(1, 5, None), Err(TableError::NotFound));
    assert_eq!(t.update_counter(1, 5, Some(100)), Ok(105));
    assert_eq!(t.update_counter(1, -6, Some(0)), Ok(99));
    assert!(t.update_element(&1, |v| *v = 7).unwrap());
    assert!(!t.update_element(&2, |v| *v = 7).unwrap());
    assert_eq!(t.get(&1), Ok(Some(7)));
    for k in 2..10 {
        t.insert(k, i64::from(k) * 10).unwrap();
    }
    let mut big = t.select(|k, v| (*v >= 50).then_some(*k)).unwrap();
    big.sort_unstable();
    assert_eq!(big, [5, 6, 7, 8, 9]);
    assert_eq!(t.select_count(|_, v| *v < 50).unwrap(), 4);
    assert_eq!(t.match_object(|k, _| *k == 3).unwrap(), [(3, 30)]);
    // A select function may use the table itself.
    assert_eq!(t.select(|k, _| t.get(k).ok().flatten()).unwrap().len(), 9);
    assert_eq!(t.select_delete(|_, v| *v >= 50).unwrap(), 5);
    assert_eq!(t.size(), Ok(4));
    assert_eq!(t.to_vec().unwrap().len(), 4);
}

/// Counts concurrent updates of one counter from many processes.
#[test]
fn update_counter_is_atomic_under_concurrent_writers() {
    each_runtime(|rt| {
        let owner = puppet(rt);
        let t: Table<u8, i64> = Table::new(
            rt,
            TableOptions::new()
                .access(Access::Public)
                .owner(owner.pid()),
        )
        .unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let t = t.clone();
                thread::spawn(move || {
                    for _ in 0..1000 {
                        t.update_counter(0, 1, Some(0)).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(t.get(&0), Ok(Some(4000)));
    });
}

#[test]
fn names_are_per_runtime_and_unique_among_live_tables() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let other = rotp_runtime::Runtime::new().unwrap();
    let owner = puppet(&rt);
    let t: Table<u8, u8> = new_table(&rt, &owner, TableOptions::new().name("t"));
    assert_eq!(
        as_process(&owner, {
            let h = rt.handle().clone();
            move |_| Table::<u8, u8>::new(&h, TableOptions::new().name("t")).map(drop)
        }),
        Err(TableError::NameTaken("t".into()))
    );
    assert_eq!(Table::<u8, u8>::whereis(&rt, "t"), Some(t.clone()));
    assert_eq!(Table::<u8, u16>::whereis(&rt, "t"), None, "another type");
    assert_eq!(
        Table::<u8, u8>::whereis(&other, "t"),
        None,
        "another runtime"
    );
    let t2 = t.clone();
    as_process(&owner, move |_| t2.delete_table()).unwrap();
    let again: Table<u8, u8> = new_table(&rt, &owner, TableOptions::new().name("t"));
    assert_eq!(Table::<u8, u8>::whereis(&rt, "t"), Some(again));
}

/// A key whose `Hash` panics for one value.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Touchy(u32);

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, h: &mut H) {
        assert!(self.0 != 13, "unlucky key");
        self.0.hash(h)
    }
}

#[test]
fn a_key_whose_hash_panics_is_refused_and_the_table_keeps_working() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let owner = puppet(&rt);
    let t: Table<Touchy, u8> = Table::new(
        &rt,
        TableOptions::new()
            .access(Access::Public)
            .owner(owner.pid()),
    )
    .unwrap();
    t.insert(Touchy(1), 1).unwrap();
    assert!(matches!(t.insert(Touchy(13), 1), Err(TableError::BadKey(m)) if m.contains("unlucky")));
    assert!(matches!(t.get(&Touchy(13)), Err(TableError::BadKey(_))));
    assert_eq!(t.get(&Touchy(1)), Ok(Some(1)));
    assert_eq!(t.size(), Ok(1));
}

/// While the owner holds one stripe's write lock (inside `update_element`),
/// four reader threads of other keys finish: readers do not serialise on
/// one lock.
#[test]
fn readers_of_other_keys_do_not_wait_for_a_writer() {
    each_runtime(|rt| {
        let owner = puppet(rt);
        let t: Table<u32, u32> = new_table(rt, &owner, TableOptions::new());
        let t1 = t.clone();
        as_process(&owner, move |_| t1.insert_many((0..100).map(|k| (k, k)))).unwrap();
        let gate = Gate::new();
        let opener = gate.opener();
        let (held_tx, held) = mpsc::channel();
        let (t2, g) = (t.clone(), gate.clone());
        in_process(&owner, move |_| {
            t2.update_element(&0, |v| {
                held_tx.send(()).unwrap();
                g.wait_blocking();
                *v += 1;
            })
            .unwrap();
        });
        held.recv_timeout(TIMEOUT).unwrap();
        let (done_tx, done) = mpsc::channel();
        let readers: Vec<_> = (1..=4)
            .map(|i| {
                let (t, tx) = (t.clone(), done_tx.clone());
                thread::spawn(move || {
                    let v = t.get(&(i * 20)).unwrap();
                    tx.send(v).unwrap();
                })
            })
            .collect();
        // A reader whose key shares the held stripe waits; with 64 stripes
        // at most one of four does in practice, never all.
        let finished = (0..3)
            .filter(|_| done.recv_timeout(TIMEOUT).is_ok())
            .count();
        assert_eq!(finished, 3, "readers waited for the writer's stripe");
        drop(opener);
        readers.into_iter().for_each(|r| r.join().unwrap());
        assert_eq!(t.get(&0), Ok(Some(1)));
    });
}
