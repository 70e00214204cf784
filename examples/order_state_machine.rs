//! An order as a state machine: each event moves it to a new state, and an
//! event that does not apply is answered with an error — the order stays as
//! it was and the server carries on.
//!
//! ```text
//!   Pending ──pay──► Paid ──ship──► Shipped ──deliver──► Delivered
//!      │               │
//!      └────cancel─────┴──────► Cancelled
//! ```
//!
//! Run with `cargo run --example order_state_machine`.

use std::fmt;
use std::time::Duration;

use rotp::gen_server::{
    start, CallError, CallResult, Caller, Ctx, GenServer, Init, InitResult, Reply, StartOptions,
};
use rotp::runtime::{ExitReason, Runtime};

#[derive(Debug, Clone, PartialEq, Eq)]
enum OrderState {
    Pending,
    Paid { amount_cents: u64 },
    Shipped { tracking: String },
    Delivered,
    Cancelled { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Pay { amount_cents: u64 },
    Ship { tracking: String },
    Deliver,
    Cancel { reason: String },
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OrderError {
    /// The event does not apply in the current state.
    InvalidTransition { from: OrderState, event: Event },
    /// The event applies, but its data is wrong.
    Invalid(&'static str),
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderError::InvalidTransition { from, event } => {
                write!(f, "cannot {event:?} an order that is {from:?}")
            }
            OrderError::Invalid(why) => f.write_str(why),
        }
    }
}

impl OrderState {
    /// The transition function: pure, so it is easy to test on its own.
    fn apply(&self, event: Event) -> Result<OrderState, OrderError> {
        use OrderState::*;
        match (self, event) {
            (Pending, Event::Pay { amount_cents: 0 }) => Err(OrderError::Invalid("nothing to pay")),
            (Pending, Event::Pay { amount_cents }) => Ok(Paid { amount_cents }),
            (Paid { .. }, Event::Ship { tracking }) => Ok(Shipped { tracking }),
            (Shipped { .. }, Event::Deliver) => Ok(Delivered),
            (Pending | Paid { .. }, Event::Cancel { reason }) => Ok(Cancelled { reason }),
            (from, event) => Err(OrderError::InvalidTransition {
                from: from.clone(),
                event,
            }),
        }
    }
}

struct Order {
    state: OrderState,
    history: Vec<OrderState>,
}

enum Call {
    Apply(Event),
    State,
    /// Stop the server, answering with the whole history.
    Archive,
}

#[derive(Debug, PartialEq)]
enum Answer {
    State(Result<OrderState, OrderError>),
    History(Vec<OrderState>),
}

impl GenServer for Order {
    type Args = ();
    type Call = Call;
    type Reply = Answer;
    type Cast = ();
    type Info = ();
    type Continue = ();

    fn init((): (), _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
        Init::ok(Order {
            state: OrderState::Pending,
            history: vec![OrderState::Pending],
        })
    }

    fn handle_call(
        &mut self,
        request: Call,
        _caller: &mut Caller<Answer>,
        _ctx: &mut Ctx<'_, Self>,
    ) -> CallResult<Self> {
        match request {
            Call::Apply(event) => {
                let result = self.state.apply(event);
                if let Ok(next) = &result {
                    self.state = next.clone();
                    self.history.push(next.clone());
                }
                Reply::reply(Answer::State(result))
            }
            Call::State => Reply::reply(Answer::State(Ok(self.state.clone()))),
            // Reply, then stop normally: `terminate` runs, the caller gets
            // the answer, the process exits (rule 74).
            Call::Archive => Reply::stop(
                ExitReason::Normal,
                Answer::History(std::mem::take(&mut self.history)),
            ),
        }
    }
}

pub(crate) fn run() {
    let rt = Runtime::builder().workers(2).build().expect("runtime");
    let order = start::<Order>(&rt, (), StartOptions::new()).unwrap();
    let apply = |event: Event| match order.call(Call::Apply(event)).unwrap() {
        Answer::State(result) => result,
        other => panic!("unexpected {other:?}"),
    };

    // Shipping an unpaid order is refused; the order stays pending.
    let refused = apply(Event::Ship {
        tracking: "T1".into(),
    });
    assert!(matches!(
        refused,
        Err(OrderError::InvalidTransition {
            from: OrderState::Pending,
            ..
        })
    ));
    println!("ship while pending: {}", refused.unwrap_err());
    assert_eq!(
        apply(Event::Pay { amount_cents: 0 }),
        Err(OrderError::Invalid("nothing to pay"))
    );

    assert_eq!(
        apply(Event::Pay {
            amount_cents: 4_200
        }),
        Ok(OrderState::Paid {
            amount_cents: 4_200
        })
    );
    assert_eq!(
        apply(Event::Ship {
            tracking: "T1".into()
        }),
        Ok(OrderState::Shipped {
            tracking: "T1".into()
        })
    );
    // Too late to cancel.
    let late = apply(Event::Cancel {
        reason: "changed my mind".into(),
    });
    println!("cancel while shipped: {}", late.as_ref().unwrap_err());
    assert!(late.is_err());
    assert_eq!(apply(Event::Deliver), Ok(OrderState::Delivered));
    assert_eq!(
        order.call(Call::State).unwrap(),
        Answer::State(Ok(OrderState::Delivered))
    );

    // Archive: the reply carries the history, then the server is gone.
    let Answer::History(history) = order.call(Call::Archive).unwrap() else {
        panic!("archive answers with the history")
    };
    assert_eq!(history.len(), 4);
    println!("history: {history:?}");
    // A call right after may still catch it exiting (`Exited(normal)`);
    // once it is gone, calls fail with `NoProc`.
    let after = order.call(Call::State).unwrap_err();
    assert!(matches!(
        after,
        CallError::NoProc | CallError::Exited(ExitReason::Normal)
    ));

    rt.shutdown(Duration::from_secs(1)).expect("clean shutdown");
}

#[allow(dead_code)]
fn main() {
    run();
    println!("order_state_machine: ok");
}
