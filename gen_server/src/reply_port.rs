//! Where a [`ReplyTo`] delivers: to a caller waiting on this runtime, or
//! to a function (a bridge that carried the call in from elsewhere).

use rotp_runtime::{Pid, ReplySender};

use crate::reply_to::ReplyTo;

/// The two kinds of reply port.
pub(crate) enum Port<R> {
    /// A caller of this runtime waits on the channel.
    Local(ReplySender<R>),
    /// The reply goes to a function.
    Fn(Box<dyn FnOnce(R) + Send>),
}

impl<R: Send + 'static> Port<R> {
    pub(crate) fn send(self, value: R) -> bool {
        match self {
            Port::Local(sender) => sender.send(value),
            Port::Fn(f) => {
                f(value);
                true
            }
        }
    }
}

impl<R> Port<R> {
    pub(crate) fn caller(&self) -> Option<Pid> {
        match self {
            Port::Local(sender) => sender.caller(),
            Port::Fn(_) => None,
        }
    }

    pub(crate) fn is_abandoned(&self) -> bool {
        match self {
            Port::Local(sender) => sender.is_abandoned(),
            Port::Fn(_) => false,
        }
    }
}

impl<R: Send + 'static> ReplyTo<R> {
    /// A reply port whose reply goes to `deliver` instead of a caller
    /// waiting on this runtime: for bridges that carry calls in from
    /// elsewhere (`rotp-dist` answers a call from another node through
    /// one). Its [`pid`](ReplyTo::pid) is `None`, and it is never
    /// [abandoned](ReplyTo::is_abandoned); dropping it unanswered drops
    /// `deliver` uncalled.
    ///
    /// ```
    /// use rotp_gen_server::ReplyTo;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let port: ReplyTo<u32> = ReplyTo::from_fn(move |v| tx.send(v).unwrap());
    /// assert!(port.send(7));
    /// assert_eq!(rx.recv().unwrap(), 7);
    /// ```
    pub fn from_fn(deliver: impl FnOnce(R) + Send + 'static) -> Self {
        ReplyTo::from_port(Port::Fn(Box::new(deliver)))
    }
}
