//! Stack: push with a cast, pop with a call — the example of the Elixir
//! `GenServer` documentation.
//!
//! Each request names its reply type: popping answers an `Option`, so an
//! empty stack is an answer (`None`), not a crash; the size is a `usize`.
//!
//! Run with `cargo run --example stack`.

use std::time::Duration;

use rotp::prelude::*;

struct Stack(Vec<String>);

enum Call {
    Pop(ReplyTo<Option<String>>),
    Peek(ReplyTo<Option<String>>),
    Size(ReplyTo<usize>),
}

#[gen_server]
impl GenServer for Stack {
    fn init(items: Vec<String>, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Stack(items))
    }

    fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Pop(r) => r.reply(self.0.pop()),
            Call::Peek(r) => r.reply(self.0.last().cloned()),
            Call::Size(r) => r.reply(self.0.len()),
        }
    }

    fn handle_cast(&mut self, item: String, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.0.push(item);
        noreply()
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");

    let stack = gen_server::start::<Stack>(&rt, vec!["hello".into()], StartOptions::new())
        .expect("the stack starts");
    stack.cast("world".into());
    assert_eq!(stack.call(Call::Size), Ok(2));
    assert_eq!(stack.call(Call::Peek).unwrap().as_deref(), Some("world"));
    assert_eq!(stack.call(Call::Pop).unwrap().as_deref(), Some("world"));
    assert_eq!(stack.call(Call::Pop).unwrap().as_deref(), Some("hello"));
    // Empty: an answer, not a crash.
    assert_eq!(stack.call(Call::Pop), Ok(None));
    println!("pushed world onto [hello], popped world, hello, then nothing");

    // Stopping runs `terminate` and waits for the exit; afterwards calls
    // fail with a value instead of crashing the caller.
    stack
        .stop(ExitReason::Normal, Some(Duration::from_secs(5)))
        .expect("the stack stops");
    assert_eq!(stack.call(Call::Size), Err(CallError::NoProc));
    println!("after stop, a call returns {:?}", CallError::NoProc);

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("stack: ok");
}
