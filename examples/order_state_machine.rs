//! OrderProcessor: an order as a state machine. Each event moves it to a
//! new state; an event that does not apply is answered with an error, and
//! the order stays as it was.
//!
//! ```text
//!   Pending ──pay──► Paid ──ship──► Shipped ──deliver──► Delivered
//!      │               │
//!      └────cancel─────┴──────► Cancelled
//! ```
//!
//! The server's state is the order's status itself, an enum, and
//! `handle_call` matches `(status, event)` pairs like Elixir's function
//! heads. Closing the order replies and stops the server in one step
//! (`r.stop(reason, reply)`, Elixir's `{:stop, :normal, reply, state}`).
//!
//! Run with `cargo run --example order_state_machine`.

use std::time::Duration;

use rotp::prelude::*;
use rotp::runtime::testing::assert_eventually;

#[derive(Debug, Clone, PartialEq)]
enum Order {
    Pending,
    Paid(u64),
    Shipped(String),
    Delivered,
    Cancelled(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Pay(u64),
    Ship(String),
    Deliver,
    Cancel(String),
}

#[derive(Debug, PartialEq, thiserror::Error)]
#[error("cannot {1:?} an order that is {0:?}")]
struct InvalidTransition(Order, Event);

enum Call {
    Apply(Event, ReplyTo<Result<Order, InvalidTransition>>),
    Status(ReplyTo<Order>),
    /// Answers the final status and stops.
    Close(ReplyTo<Order>),
}

#[gen_server]
impl GenServer for Order {
    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Order::Pending)
    }

    fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
        // Status and Close answer at once; an event moves the order on.
        let (event, r) = match call {
            Call::Apply(event, r) => (event, r),
            Call::Status(r) => return r.reply(self.clone()),
            Call::Close(r) => return r.stop(ExitReason::Normal, self.clone()),
        };
        // The transitions: (status, event) -> the new status.
        *self = match (&*self, event) {
            (Order::Pending, Event::Pay(cents)) if cents > 0 => Order::Paid(cents),
            (Order::Paid(_), Event::Ship(tracking)) => Order::Shipped(tracking),
            (Order::Shipped(_), Event::Deliver) => Order::Delivered,
            (Order::Pending | Order::Paid(_), Event::Cancel(why)) => Order::Cancelled(why),
            (from, event) => return r.reply(Err(InvalidTransition(from.clone(), event))),
        };
        r.reply(Ok(self.clone()))
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");
    let order = gen_server::start::<Order>(&rt, (), StartOptions::new()).expect("the order starts");
    let apply = |event: Event| order.call(|r| Call::Apply(event, r)).unwrap();

    // Shipping an unpaid order is refused; the order stays pending.
    let refused = apply(Event::Ship("T1".into()));
    assert_eq!(
        refused,
        Err(InvalidTransition(Order::Pending, Event::Ship("T1".into())))
    );
    println!("ship while pending: {}", refused.unwrap_err());
    assert!(apply(Event::Pay(0)).is_err(), "nothing to pay");
    assert_eq!(order.call(Call::Status), Ok(Order::Pending));

    assert_eq!(apply(Event::Pay(4_200)), Ok(Order::Paid(4_200)));
    assert_eq!(
        apply(Event::Ship("T1".into())),
        Ok(Order::Shipped("T1".into()))
    );
    // Too late to cancel.
    let late = apply(Event::Cancel("changed my mind".into()));
    println!("cancel while shipped: {}", late.as_ref().unwrap_err());
    assert!(late.is_err());
    assert_eq!(apply(Event::Deliver), Ok(Order::Delivered));

    // Close: the reply carries the final status, then the server is gone.
    assert_eq!(order.call(Call::Close), Ok(Order::Delivered));
    assert_eventually(Duration::from_secs(5), "the order's server exits", || {
        order.exit_reason() == Some(ExitReason::Normal)
    });
    assert_eq!(order.call(Call::Status), Err(CallError::NoProc));
    println!("closed: delivered, and the order's server exited normally");

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("order_state_machine: ok");
}
