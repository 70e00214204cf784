//! Key-value store with error handling: failures are typed values in the
//! reply, not crashes.
//!
//! Where Elixir answers `{:ok, value}` or `{:error, :not_found}`, each
//! request here names its reply type, a `Result` with an error enum, so the
//! compiler makes every client handle each case. Two layers of errors stay
//! apart:
//!
//! - `Err(CallError)` from `call`: the *call* failed (no server, a timeout,
//!   the server crashed);
//! - `Ok(Err(KvError))`: the server answered "no" and carries on.
//!
//! Inside the server, `?` plays the part of Elixir's `with`.
//!
//! Run with `cargo run --example kv_store`.

use std::collections::HashMap;
use std::time::Duration;

use rotp::prelude::*;

const MAX_KEY_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum KvError {
    #[error("no key {0:?}")]
    NotFound(String),
    #[error("a key of {0} bytes (at most {MAX_KEY_LEN})")]
    KeyTooLong(usize),
}

#[derive(Default)]
struct Store(HashMap<String, i64>);

enum Call {
    /// Answers the previous value, if any.
    Put(String, i64, ReplyTo<Result<Option<i64>, KvError>>),
    Get(String, ReplyTo<Result<i64, KvError>>),
    /// Answers the value removed.
    Delete(String, ReplyTo<Result<i64, KvError>>),
}

fn check_key(key: &str) -> Result<(), KvError> {
    if key.len() > MAX_KEY_LEN {
        return Err(KvError::KeyTooLong(key.len()));
    }
    Ok(())
}

impl Store {
    fn put(&mut self, key: String, value: i64) -> Result<Option<i64>, KvError> {
        check_key(&key)?;
        Ok(self.0.insert(key, value))
    }
}

#[gen_server]
impl GenServer for Store {
    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Store::default())
    }

    fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Put(k, v, r) => r.reply(self.put(k, v)),
            Call::Get(k, r) => r.reply(self.0.get(&k).copied().ok_or(KvError::NotFound(k))),
            Call::Delete(k, r) => r.reply(self.0.remove(&k).ok_or(KvError::NotFound(k))),
        }
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");
    let store = gen_server::start::<Store>(&rt, (), StartOptions::new()).expect("the store starts");

    assert_eq!(store.call(|r| Call::Put("a".into(), 1, r)), Ok(Ok(None)));
    // Put answers the previous value.
    assert_eq!(store.call(|r| Call::Put("a".into(), 2, r)), Ok(Ok(Some(1))));
    assert_eq!(store.call(|r| Call::Get("a".into(), r)), Ok(Ok(2)));

    // Domain errors are answers; the server carries on.
    let missing = store.call(|r| Call::Get("b".into(), r)).unwrap();
    assert_eq!(missing, Err(KvError::NotFound("b".into())));
    println!("get b: {}", missing.unwrap_err());
    let long = "a-key-that-is-far-too-long".to_owned();
    let refused = store.call(|r| Call::Put(long, 0, r)).unwrap();
    assert_eq!(refused, Err(KvError::KeyTooLong(26)));
    println!("put a long key: {}", refused.unwrap_err());
    assert_eq!(store.call(|r| Call::Delete("a".into(), r)), Ok(Ok(2)));
    assert_eq!(
        store.call(|r| Call::Delete("a".into(), r)),
        Ok(Err(KvError::NotFound("a".into())))
    );

    // A client that does not care which layer failed folds both with `?`.
    let get = |key: &str| -> Result<i64, Box<dyn std::error::Error>> {
        Ok(store.call(|r| Call::Get(key.into(), r))??)
    };
    assert_eq!(get("zzz").unwrap_err().to_string(), "no key \"zzz\"");

    // Transport errors are different: here, the server is gone.
    store
        .stop(ExitReason::Normal, Some(Duration::from_secs(5)))
        .expect("the store stops");
    assert_eq!(
        store.call(|r| Call::Get("a".into(), r)),
        Err(CallError::NoProc)
    );
    println!("after stop: {}", get("a").unwrap_err());

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("kv_store: ok");
}
