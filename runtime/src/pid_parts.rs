//! The raw parts of a pid, for code that maps pids onto another numbering.
//!
//! A distribution layer names the processes of this runtime in another
//! node's terms (Erlang's `<Node.Id.Serial>`): it needs the two numbers
//! behind a [`Pid`] and the way back. Building a pid from arbitrary parts is
//! harmless: a pid is only a name, and the process table checks the
//! generation, so a made-up pid names no process or an exited one.

use crate::pid::Pid;

impl Pid {
    /// The table slot and its generation: `<0.index.generation>`.
    ///
    /// ```
    /// use rotp_runtime::Pid;
    /// let pid = Pid::from_parts(42, 1);
    /// assert_eq!(pid.parts(), (42, 1));
    /// assert_eq!(pid.to_string(), "<0.42.1>");
    /// ```
    pub const fn parts(self) -> (u32, u32) {
        (self.index(), self.generation())
    }

    /// The pid with these parts (the inverse of [`parts`](Pid::parts)).
    pub const fn from_parts(index: u32, generation: u32) -> Pid {
        Pid::new(index, generation)
    }
}
