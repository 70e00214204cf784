//! The `ViaRegistry::send` default (rules 14, 37) and the runtime's
//! message counter.

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

use rotp_runtime::testing::wait_until;
use rotp_runtime::{NamedSendError, Pid, Runtime, ViaRegistry};
use via::Registry;

mod via {
    use super::*;
    use std::sync::Mutex;

    /// A minimal via registry: a map behind a std mutex.
    #[derive(Default)]
    pub(crate) struct Registry(pub(crate) Mutex<HashMap<String, Pid>>);

    impl ViaRegistry for Registry {
        fn register_name(&self, key: &str, pid: Pid) -> Result<(), Pid> {
            let mut map = self.0.lock().unwrap();
            match map.get(key) {
                Some(&holder) => Err(holder),
                None => {
                    map.insert(key.to_owned(), pid);
                    Ok(())
                }
            }
        }
        fn unregister_name(&self, key: &str) {
            self.0.lock().unwrap().remove(key);
        }
        fn whereis_name(&self, key: &str) -> Option<Pid> {
            self.0.lock().unwrap().get(key).copied()
        }
    }
}

/// Rules 14 and 37: a send through a via registry reaches the holder, and
/// fails for a key nobody holds or a holder of another message type.
#[test]
fn rule_37_via_send() {
    let rt = Runtime::builder().workers(2).build().unwrap();
    let registry = Registry::default();
    let (tx, rx) = mpsc::channel();
    let p = rt.spawn_fn(move |n: u32, _ctx| tx.send(n).unwrap());
    registry.register_name("worker", p.pid()).unwrap();
    assert_eq!(registry.send(&rt, "worker", 7u32), Ok(()));
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(7));
    assert!(matches!(
        registry.send(&rt, "nobody", 1u32),
        Err(NamedSendError::NotRegistered(..))
    ));
    assert!(matches!(
        registry.send(&rt, "worker", "text"),
        Err(NamedSendError::WrongType(..))
    ));
}

/// Every handled message is counted in `RuntimeStats::messages`.
#[test]
fn stats_count_handled_messages() {
    let rt = Runtime::builder().workers(1).build().unwrap();
    let before = rt.stats().messages;
    let (tx, rx) = mpsc::channel();
    let p = rt.spawn_fn(move |n: u32, _ctx| {
        if n == 99 {
            tx.send(()).unwrap();
        }
    });
    for n in 0..100 {
        p.send(n);
    }
    rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(wait_until(Duration::from_secs(5), || rt.stats().messages
        >= before + 100));
    assert!(rt.stats().workers[0].handled >= 100);
}
