//! The everyday API compiles as documented: typed replies per request, the
//! `#[gen_server]` attribute, `?` in handlers, and the result modifiers.

use std::time::Duration;

use rotp_gen_server::{
    gen_server, noreply, start, stop, Ctx, GenServer, Handled, Info, Init, InitResult, ReplyTo,
    StartOptions, Then,
};

struct Store {
    items: Vec<i64>,
    waiting: Vec<ReplyTo<i64>>,
}

enum Call {
    Pop(ReplyTo<Option<i64>>),
    Size(ReplyTo<usize>),
    Parse(String, ReplyTo<i64>),
    Next(ReplyTo<i64>),
    Quit(ReplyTo<&'static str>),
}

enum Cont {
    Trim,
}

#[gen_server]
impl GenServer for Store {
    fn init(items: Vec<i64>, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Store {
            items,
            waiting: Vec::new(),
        })
        .timeout(Duration::from_secs(3600))
    }

    fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Pop(r) => r.reply(self.items.pop()).then_continue(Cont::Trim),
            Call::Size(r) => r.reply(self.items.len()).hibernate(),
            Call::Parse(s, r) => {
                let n: i64 = s.parse()?;
                r.reply(n)
            }
            Call::Next(r) => {
                self.waiting.push(r);
                noreply()
            }
            Call::Quit(r) => r.stop("quit", "bye"),
        }
    }

    fn handle_cast(&mut self, x: i64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        for r in self.waiting.drain(..) {
            r.send(x);
        }
        self.items.push(x);
        noreply()
    }

    fn handle_info(&mut self, info: Info<()>, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match info {
            Info::Timeout => stop("idle"),
            _ => noreply(),
        }
    }

    fn handle_continue(&mut self, Cont::Trim: Cont, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        self.items.truncate(100);
        noreply()
    }
}

#[test]
fn typed_replies_per_request() {
    let rt = rotp_runtime::Runtime::new().unwrap();
    let s = start::<Store>(&rt, vec![1, 2], StartOptions::new()).unwrap();
    let size: usize = s.call(Call::Size).unwrap();
    assert_eq!(size, 2);
    assert_eq!(s.call(Call::Pop).unwrap(), Some(2));
    assert_eq!(s.call(|r| Call::Parse("41".into(), r)).unwrap(), 41);
    let pending = s.send_request(Call::Next).unwrap();
    s.cast(5);
    assert_eq!(
        pending
            .receive_response(Some(Duration::from_secs(5)))
            .unwrap(),
        5
    );
    assert_eq!(s.call(Call::Quit).unwrap(), "bye");
}
