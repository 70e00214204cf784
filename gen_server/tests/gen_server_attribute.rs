//! The `#[gen_server]` attribute: it fills in the message types a server
//! does not declare — from its callbacks' signatures, or `Infallible` for
//! those no callback takes — and keeps the ones it declares. (That a
//! declared `Call` without `handle_call`, or a request the server does not
//! handle, does not compile is shown by `compile_fail` doctests in
//! `macros/src/lib.rs`.)

mod common;

use std::any::TypeId;
use std::convert::Infallible;

use common::*;
use rotp_gen_server::{
    gen_server, noreply, start, Ctx, GenServer, Handled, Info, Init, InitResult, ReplyTo,
    StartOptions,
};
use rotp_runtime::ExitReason;

/// Whether `A` and `B` are the same type.
fn same<A: 'static, B: 'static>() -> bool {
    TypeId::of::<A>() == TypeId::of::<B>()
}

/// A server that declares only `init`.
struct OnlyInit(u32);

#[gen_server]
impl GenServer for OnlyInit {
    fn init(start: u32, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(OnlyInit(start))
    }
}

/// A server with only `init` gets `Args` from init's parameter and
/// `Infallible` for every message type: nobody can send it a message. It
/// still answers `sys` requests and stops.
#[test]
fn a_server_with_only_init() {
    assert!(same::<<OnlyInit as GenServer>::Args, u32>());
    assert!(same::<<OnlyInit as GenServer>::Call, Infallible>());
    assert!(same::<<OnlyInit as GenServer>::Cast, Infallible>());
    assert!(same::<<OnlyInit as GenServer>::Info, Infallible>());
    assert!(same::<<OnlyInit as GenServer>::Continue, Infallible>());
    each_runtime(|rt| {
        let server = start::<OnlyInit>(rt, 7, StartOptions::new()).unwrap();
        assert_eq!(server.get_state(|s| s.0), Ok(7));
        assert_eq!(server.stop(ExitReason::Normal, None), Ok(()));
    });
}

/// A request enum named apart from the callback.
enum Request {
    Push(String, ReplyTo<usize>),
    All(ReplyTo<Vec<String>>),
}

/// A server that declares its `Call` type and names it `Self::Call` in
/// `handle_call`; its `Info` and `Cast` come from the other callbacks.
struct Declared(Vec<String>);

#[gen_server]
impl GenServer for Declared {
    type Call = Request;

    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Declared(Vec::new()))
    }

    fn handle_call(&mut self, call: Self::Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Request::Push(item, r) => {
                self.0.push(item);
                r.reply(self.0.len())
            }
            Request::All(r) => r.reply(self.0.clone()),
        }
    }

    fn handle_cast(&mut self, item: &'static str, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.0.push(item.to_owned());
        noreply()
    }

    fn handle_info(&mut self, info: Info<String>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        if let Info::Msg(item) = info {
            self.0.push(item);
        }
        noreply()
    }
}

/// A declared `type Call = ...;` is kept; the undeclared types are still
/// read from the callbacks, and the server serves each kind of message.
#[test]
fn a_server_with_an_explicit_call_type() {
    assert!(same::<<Declared as GenServer>::Args, ()>());
    assert!(same::<<Declared as GenServer>::Call, Request>());
    assert!(same::<<Declared as GenServer>::Cast, &'static str>());
    assert!(same::<<Declared as GenServer>::Info, String>());
    assert!(same::<<Declared as GenServer>::Continue, Infallible>());
    each_runtime(|rt| {
        let server = start::<Declared>(rt, (), StartOptions::new()).unwrap();
        let s = server.clone();
        let len = bounded(move || s.call(|r| Request::Push("call".into(), r)));
        assert_eq!(len, Ok(1));
        server.cast("cast");
        server.send_info("info".to_owned());
        let s = server.clone();
        assert_eq!(
            bounded(move || s.call(Request::All)),
            Ok(vec![
                "call".to_owned(),
                "cast".to_owned(),
                "info".to_owned()
            ])
        );
    });
}
