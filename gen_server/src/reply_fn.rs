//! Reply ports that deliver to a function, for bridges that carry calls in
//! from elsewhere.

use rotp_runtime::ReplySender;

use crate::reply_to::ReplyTo;

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
        ReplyTo::new(ReplySender::from_fn(deliver))
    }
}
