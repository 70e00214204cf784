//! `ReplyTo::from_fn`: a reply port whose value goes to a function (the
//! hook a bridge from another transport uses).

use std::sync::mpsc;
use std::time::Duration;

use rotp_gen_server::{
    gen_server, noreply, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions,
};
use rotp_runtime::{ExitReason, Runtime};

const TIMEOUT: Duration = Duration::from_secs(5);

struct Server {
    parked: Option<ReplyTo<u32>>,
}

enum Call {
    Now(ReplyTo<u32>),
    Later(ReplyTo<u32>),
    Release(ReplyTo<()>),
    StopWith(ReplyTo<u32>),
}

#[gen_server]
impl GenServer for Server {
    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Server { parked: None })
    }

    fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        match call {
            Call::Now(r) => r.reply(1),
            Call::Later(r) => {
                self.parked = Some(r);
                noreply()
            }
            Call::Release(r) => {
                if let Some(p) = self.parked.take() {
                    assert!(p.send(2));
                }
                r.reply(())
            }
            Call::StopWith(r) => r.stop(ExitReason::Shutdown, 3),
        }
    }
}

/// Sends `call` with its own port; the port `send_request` makes is
/// dropped unused.
fn send(server: &rotp_gen_server::ServerRef<Server>, call: Call) {
    drop(server.send_request::<()>(move |_unused| call).unwrap());
}

#[test]
fn replies_immediate_deferred_and_with_stop_reach_the_function() {
    let rt = Runtime::new().unwrap();
    let server = start::<Server>(&rt, (), StartOptions::new()).unwrap();
    let (tx, rx) = mpsc::channel();
    let port = |tx: &mpsc::Sender<u32>| {
        let tx = tx.clone();
        let r = ReplyTo::from_fn(move |v: u32| tx.send(v).unwrap());
        assert_eq!(r.pid(), None);
        assert!(!r.is_abandoned());
        r
    };

    send(&server, Call::Now(port(&tx)));
    assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), 1);

    send(&server, Call::Later(port(&tx)));
    server.call(Call::Release).unwrap();
    assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), 2);

    send(&server, Call::StopWith(port(&tx)));
    assert_eq!(rx.recv_timeout(TIMEOUT).unwrap(), 3);
    assert!(rotp_runtime::testing::wait_until(TIMEOUT, || {
        server.exit_reason() == Some(ExitReason::Shutdown)
    }));
}
