//! Stack: push with a cast, pop with a call — the example from the Elixir
//! `GenServer` documentation.
//!
//! Popping an empty stack is not a crash here: the reply is an `Option`.
//!
//! Run with `cargo run --example stack`.

use std::time::Duration;

use rotp::gen_server::{
    start, CallError, CallResult, Caller, CastResult, Ctx, GenServer, Init, InitResult, NoReply,
    Reply, StartOptions,
};
use rotp::runtime::{ExitReason, Runtime};

struct Stack {
    items: Vec<String>,
}

enum Call {
    Pop,
    Peek,
    Len,
}

#[derive(Debug, PartialEq)]
enum Answer {
    Item(Option<String>),
    Len(usize),
}

impl GenServer for Stack {
    type Args = Vec<String>;
    type Call = Call;
    type Reply = Answer;
    type Cast = String;
    type Info = ();
    type Continue = ();

    fn init(items: Vec<String>, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Stack { items })
    }

    fn handle_call(
        &mut self,
        request: Call,
        _caller: &mut Caller<Answer>,
        _ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        Reply::reply(match request {
            Call::Pop => Answer::Item(self.items.pop()),
            Call::Peek => Answer::Item(self.items.last().cloned()),
            Call::Len => Answer::Len(self.items.len()),
        })
    }

    fn handle_cast(&mut self, item: String, _ctx: &mut Ctx<'_, Self>) -> CastResult<Self> {
        self.items.push(item);
        NoReply::noreply()
    }
}

fn item(s: &str) -> Answer {
    Answer::Item(Some(s.to_owned()))
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");

    let stack = start::<Stack>(&rt, vec!["hello".into()], StartOptions::new()).unwrap();
    stack.cast("world".into());
    assert_eq!(stack.call(Call::Peek).unwrap(), item("world"));
    assert_eq!(stack.call(Call::Pop).unwrap(), item("world"));
    assert_eq!(stack.call(Call::Pop).unwrap(), item("hello"));
    // Empty: an answer, not a crash.
    assert_eq!(stack.call(Call::Pop).unwrap(), Answer::Item(None));
    assert_eq!(stack.call(Call::Len).unwrap(), Answer::Len(0));
    println!("pushed world onto [hello], popped world, hello, then nothing");

    // Stopping runs `terminate` and waits for the exit; afterwards calls
    // fail with a value instead of crashing the caller.
    stack
        .stop(ExitReason::Normal, Some(Duration::from_secs(1)))
        .unwrap();
    assert_eq!(stack.call(Call::Len).unwrap_err(), CallError::NoProc);
    println!("after stop, a call returns {:?}", CallError::NoProc);

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("stack: ok");
}
