//! Key-value store with error handling: failures are typed values in the
//! reply, not crashes.
//!
//! Elixir code often answers `{:ok, value}` / `{:error, :not_found}`; here
//! the reply type is a `Result` with an error enum, so the compiler makes
//! every client handle each case. Two layers of errors stay distinct:
//!
//! - `Err(CallError)` from `call`: the *call* failed (no server, timeout,
//!   the server crashed);
//! - `Ok(Err(KvError))`: the server answered "no" (unknown key, invalid
//!   input, read-only) and carries on.
//!
//! Run with `cargo run --example kv_store`.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use rotp::gen_server::{
    start, CallError, CallResult, Caller, Ctx, GenServer, Init, InitResult, Reply, StartOptions,
};
use rotp::runtime::Runtime;

const MAX_KEY_LEN: usize = 16;

/// What the store can refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KvError {
    NotFound(String),
    KeyTooLong { len: usize, max: usize },
    ReadOnly,
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::NotFound(key) => write!(f, "no key {key:?}"),
            KvError::KeyTooLong { len, max } => write!(f, "key of {len} bytes (max {max})"),
            KvError::ReadOnly => f.write_str("the store is read-only"),
        }
    }
}

impl std::error::Error for KvError {}

enum Call {
    Put(String, i64),
    Get(String),
    Delete(String),
    /// From now on, refuse writes.
    Freeze,
}

/// Every reply is a `Result`: `Ok` with what was asked, or why not.
type KvReply = Result<Option<i64>, KvError>;

struct Store {
    data: HashMap<String, i64>,
    frozen: bool,
}

impl Store {
    fn writable(&self, key: &str) -> Result<(), KvError> {
        if self.frozen {
            return Err(KvError::ReadOnly);
        }
        if key.len() > MAX_KEY_LEN {
            return Err(KvError::KeyTooLong {
                len: key.len(),
                max: MAX_KEY_LEN,
            });
        }
        Ok(())
    }
}

impl GenServer for Store {
    type Args = ();
    type Call = Call;
    type Reply = KvReply;
    type Cast = ();
    type Info = ();
    type Continue = ();

    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Store {
            data: HashMap::new(),
            frozen: false,
        })
    }

    fn handle_call(
        &mut self,
        request: Call,
        _caller: &mut Caller<KvReply>,
        _ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        let reply = match request {
            // `?`-style early returns make each rule one line.
            Call::Put(key, value) => self.writable(&key).map(|()| self.data.insert(key, value)),
            Call::Get(key) => match self.data.get(&key) {
                Some(v) => Ok(Some(*v)),
                None => Err(KvError::NotFound(key)),
            },
            Call::Delete(key) => self.writable(&key).and_then(|()| {
                self.data
                    .remove(&key)
                    .map(Some)
                    .ok_or(KvError::NotFound(key))
            }),
            Call::Freeze => {
                self.frozen = true;
                Ok(None)
            }
        };
        Reply::reply(reply)
    }
}

/// A client-side wrapper: one function per operation, both error layers
/// folded into one error type for callers that do not care which.
fn get(
    store: &rotp::gen_server::ServerRef<Store>,
    key: &str,
) -> Result<i64, Box<dyn std::error::Error>> {
    let value = store.call(Call::Get(key.to_owned()))??;
    Ok(value.expect("get answers with a value"))
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");
    let store = start::<Store>(&rt, (), StartOptions::new()).unwrap();

    assert_eq!(store.call(Call::Put("a".into(), 1)).unwrap(), Ok(None));
    // Put answers with the previous value.
    assert_eq!(store.call(Call::Put("a".into(), 2)).unwrap(), Ok(Some(1)));
    assert_eq!(get(&store, "a").unwrap(), 2);

    // Domain errors are answers; the server carries on.
    let missing = store.call(Call::Get("b".into())).unwrap();
    assert_eq!(missing, Err(KvError::NotFound("b".into())));
    println!("get b: {}", missing.unwrap_err());
    let long = "a-key-that-is-far-too-long".to_owned();
    let refused = store.call(Call::Put(long, 0)).unwrap();
    assert!(matches!(
        refused,
        Err(KvError::KeyTooLong {
            max: MAX_KEY_LEN,
            ..
        })
    ));
    println!("put long key: {}", refused.unwrap_err());

    store.call(Call::Freeze).unwrap().unwrap();
    assert_eq!(
        store.call(Call::Delete("a".into())).unwrap(),
        Err(KvError::ReadOnly)
    );
    assert_eq!(get(&store, "a").unwrap(), 2, "reads still work");

    // The wrapper folds both layers; its error says which one failed.
    assert_eq!(
        get(&store, "zzz").unwrap_err().to_string(),
        "no key \"zzz\""
    );

    // Transport errors are different: here, the server is gone.
    store
        .stop(
            rotp::runtime::ExitReason::Normal,
            Some(Duration::from_secs(5)),
        )
        .unwrap();
    assert_eq!(
        store.call(Call::Get("a".into())).unwrap_err(),
        CallError::NoProc
    );
    println!("after stop: {}", get(&store, "a").unwrap_err());

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("kv_store: ok");
}
