//! Control messages: what travels in a distribution frame besides the
//! message itself.
//!
//! Frames use the pass-through layout (this node offers no atom cache):
//!
//! ```text
//! | length: u32 | 112 | 131 control tuple | 131 message (optional) |
//! ```
//!
//! The control tuple starts with the operation; exit reasons and sent
//! messages follow it as the second term. Frames are built by the sender
//! (any thread) and queued whole for the connection's writer.

use crate::term::{encode, EncodeError, RemotePid, RemoteRef, Term, ToTerm};
use crate::term::{Atom, FromTerm};

const LINK: i64 = 1;
const SEND: i64 = 2;
const EXIT: i64 = 3;
const UNLINK: i64 = 4;
const REG_SEND: i64 = 6;
const EXIT2: i64 = 8;
const SEND_TT: i64 = 12;
const EXIT_TT: i64 = 13;
const REG_SEND_TT: i64 = 16;
const EXIT2_TT: i64 = 18;
const MONITOR_P: i64 = 19;
const DEMONITOR_P: i64 = 20;
const MONITOR_P_EXIT: i64 = 21;
const SEND_SENDER: i64 = 22;
const SEND_SENDER_TT: i64 = 23;
const PAYLOAD_EXIT: i64 = 24;
const PAYLOAD_EXIT_TT: i64 = 25;
const PAYLOAD_EXIT2: i64 = 26;
const PAYLOAD_EXIT2_TT: i64 = 27;
const PAYLOAD_MONITOR_P_EXIT: i64 = 28;
const ALIAS_SEND: i64 = 33;
const ALIAS_SEND_TT: i64 = 34;
const UNLINK_ID: i64 = 35;
const UNLINK_ID_ACK: i64 = 36;

/// The pass-through marker that starts every frame of this node.
pub(crate) const PASS_THROUGH: u8 = 112;

/// A monitored process: by pid, or by registered name on the receiving
/// node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum ProcRef {
    Pid(RemotePid),
    Name(Atom),
}

impl ToTerm for ProcRef {
    fn to_term(&self) -> Term {
        match self {
            ProcRef::Pid(p) => Term::Pid(p.clone()),
            ProcRef::Name(n) => Term::Atom(n.clone()),
        }
    }
}

/// Where an exit reason is: in the control tuple, or after it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reason {
    Inline(Term),
    Payload,
}

/// A control message received.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Incoming {
    Send {
        from: Option<RemotePid>,
        to: RemotePid,
    },
    RegSend {
        from: RemotePid,
        to: Atom,
    },
    AliasSend {
        from: RemotePid,
        alias: RemoteRef,
    },
    Link {
        from: RemotePid,
        to: RemotePid,
    },
    /// `id` is `None` for the old, unacknowledged `UNLINK`.
    Unlink {
        id: Option<u64>,
        from: RemotePid,
        to: RemotePid,
    },
    UnlinkAck {
        id: u64,
        from: RemotePid,
        to: RemotePid,
    },
    Exit {
        from: RemotePid,
        to: RemotePid,
        reason: Reason,
    },
    Exit2 {
        from: RemotePid,
        to: RemotePid,
        reason: Reason,
    },
    Monitor {
        from: RemotePid,
        to: ProcRef,
        mref: RemoteRef,
    },
    Demonitor {
        from: RemotePid,
        to: ProcRef,
        mref: RemoteRef,
    },
    MonitorExit {
        from: ProcRef,
        to: RemotePid,
        mref: RemoteRef,
        reason: Reason,
    },
    /// An operation this node does not take part in (group leaders,
    /// spawn requests, node links).
    Ignored(i64),
}

fn pid(t: &Term) -> Result<RemotePid, String> {
    RemotePid::from_term(t).map_err(|e| e.to_string())
}

fn mref(t: &Term) -> Result<RemoteRef, String> {
    RemoteRef::from_term(t).map_err(|e| e.to_string())
}

fn proc_ref(t: &Term) -> Result<ProcRef, String> {
    match t {
        Term::Pid(p) => Ok(ProcRef::Pid(p.clone())),
        Term::Atom(a) => Ok(ProcRef::Name(a.clone())),
        other => Err(format!(
            "expected a pid or a name, found {}",
            other.display_bounded(80)
        )),
    }
}

impl Incoming {
    /// Reads a control tuple.
    pub(crate) fn parse(control: Term) -> Result<Incoming, String> {
        let Term::Tuple(mut t) = control else {
            return Err("the control message is not a tuple".into());
        };
        let op = match t.first() {
            Some(Term::Int(op)) => *op,
            _ => return Err("the control message has no operation".into()),
        };
        let arity = |n: usize| -> Result<(), String> {
            if t.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "control operation {op} with {} elements, expected {n}",
                    t.len()
                ))
            }
        };
        Ok(match op {
            SEND | SEND_TT => {
                arity(if op == SEND { 3 } else { 4 })?;
                Incoming::Send {
                    from: None,
                    to: pid(&t[2])?,
                }
            }
            SEND_SENDER | SEND_SENDER_TT => {
                arity(if op == SEND_SENDER { 3 } else { 4 })?;
                Incoming::Send {
                    from: Some(pid(&t[1])?),
                    to: pid(&t[2])?,
                }
            }
            REG_SEND | REG_SEND_TT => {
                arity(if op == REG_SEND { 4 } else { 5 })?;
                let to = match &t[3] {
                    Term::Atom(a) => a.clone(),
                    _ => return Err("REG_SEND to something not a name".into()),
                };
                Incoming::RegSend {
                    from: pid(&t[1])?,
                    to,
                }
            }
            ALIAS_SEND | ALIAS_SEND_TT => {
                arity(if op == ALIAS_SEND { 3 } else { 4 })?;
                Incoming::AliasSend {
                    from: pid(&t[1])?,
                    alias: mref(&t[2])?,
                }
            }
            LINK => {
                arity(3)?;
                Incoming::Link {
                    from: pid(&t[1])?,
                    to: pid(&t[2])?,
                }
            }
            UNLINK => {
                arity(3)?;
                Incoming::Unlink {
                    id: None,
                    from: pid(&t[1])?,
                    to: pid(&t[2])?,
                }
            }
            UNLINK_ID | UNLINK_ID_ACK => {
                arity(4)?;
                let id = u64::from_term(&t[1]).map_err(|e| e.to_string())?;
                let (from, to) = (pid(&t[2])?, pid(&t[3])?);
                if op == UNLINK_ID {
                    Incoming::Unlink {
                        id: Some(id),
                        from,
                        to,
                    }
                } else {
                    Incoming::UnlinkAck { id, from, to }
                }
            }
            EXIT | EXIT2 => {
                arity(4)?;
                let reason = Reason::Inline(t.pop().expect("arity 4"));
                let (from, to) = (pid(&t[1])?, pid(&t[2])?);
                if op == EXIT {
                    Incoming::Exit { from, to, reason }
                } else {
                    Incoming::Exit2 { from, to, reason }
                }
            }
            EXIT_TT | EXIT2_TT => {
                arity(5)?;
                let reason = Reason::Inline(t.pop().expect("arity 5"));
                let (from, to) = (pid(&t[1])?, pid(&t[2])?);
                if op == EXIT_TT {
                    Incoming::Exit { from, to, reason }
                } else {
                    Incoming::Exit2 { from, to, reason }
                }
            }
            PAYLOAD_EXIT | PAYLOAD_EXIT_TT | PAYLOAD_EXIT2 | PAYLOAD_EXIT2_TT => {
                arity(if matches!(op, PAYLOAD_EXIT | PAYLOAD_EXIT2) {
                    3
                } else {
                    4
                })?;
                let (from, to) = (pid(&t[1])?, pid(&t[2])?);
                if matches!(op, PAYLOAD_EXIT | PAYLOAD_EXIT_TT) {
                    Incoming::Exit {
                        from,
                        to,
                        reason: Reason::Payload,
                    }
                } else {
                    Incoming::Exit2 {
                        from,
                        to,
                        reason: Reason::Payload,
                    }
                }
            }
            MONITOR_P | DEMONITOR_P => {
                arity(4)?;
                let (from, to, r) = (pid(&t[1])?, proc_ref(&t[2])?, mref(&t[3])?);
                if op == MONITOR_P {
                    Incoming::Monitor { from, to, mref: r }
                } else {
                    Incoming::Demonitor { from, to, mref: r }
                }
            }
            MONITOR_P_EXIT => {
                arity(5)?;
                let reason = Reason::Inline(t.pop().expect("arity 5"));
                Incoming::MonitorExit {
                    from: proc_ref(&t[1])?,
                    to: pid(&t[2])?,
                    mref: mref(&t[3])?,
                    reason,
                }
            }
            PAYLOAD_MONITOR_P_EXIT => {
                arity(4)?;
                Incoming::MonitorExit {
                    from: proc_ref(&t[1])?,
                    to: pid(&t[2])?,
                    mref: mref(&t[3])?,
                    reason: Reason::Payload,
                }
            }
            other => Incoming::Ignored(other),
        })
    }
}

/// An outgoing frame under construction.
pub(crate) struct Frame {
    bytes: Vec<u8>,
}

impl Frame {
    fn with_control(control: &Term) -> Result<Frame, EncodeError> {
        let mut bytes = Vec::with_capacity(64);
        bytes.extend_from_slice(&[0, 0, 0, 0, PASS_THROUGH]);
        control.encode_into(&mut bytes)?;
        Ok(Frame { bytes })
    }

    /// Appends the message (or exit reason) that follows the control
    /// tuple.
    fn payload(mut self, term: &Term) -> Result<Frame, EncodeError> {
        self.bytes.push(131);
        encode(term, &mut self.bytes)?;
        Ok(self)
    }

    /// The frame with its length, ready for the socket.
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, EncodeError> {
        let len = u32::try_from(self.bytes.len() - 4).map_err(|_| EncodeError("frame"))?;
        self.bytes[..4].copy_from_slice(&len.to_be_bytes());
        Ok(self.bytes)
    }

    fn op(op: i64, items: Vec<Term>) -> Result<Frame, EncodeError> {
        let mut t = Vec::with_capacity(items.len() + 1);
        t.push(Term::Int(op));
        t.extend(items);
        Frame::with_control(&Term::Tuple(t))
    }

    pub(crate) fn send(from: &RemotePid, to: &RemotePid, msg: &Term) -> Result<Frame, EncodeError> {
        Frame::op(
            SEND_SENDER,
            vec![Term::Pid(from.clone()), Term::Pid(to.clone())],
        )?
        .payload(msg)
    }

    pub(crate) fn reg_send(from: &RemotePid, to: &Atom, msg: &Term) -> Result<Frame, EncodeError> {
        Frame::op(
            REG_SEND,
            vec![
                Term::Pid(from.clone()),
                Term::atom(""),
                Term::Atom(to.clone()),
            ],
        )?
        .payload(msg)
    }

    pub(crate) fn alias_send(
        from: &RemotePid,
        alias: &RemoteRef,
        msg: &Term,
    ) -> Result<Frame, EncodeError> {
        Frame::op(
            ALIAS_SEND,
            vec![Term::Pid(from.clone()), Term::Ref(alias.clone())],
        )?
        .payload(msg)
    }

    pub(crate) fn link(from: &RemotePid, to: &RemotePid) -> Result<Frame, EncodeError> {
        Frame::op(LINK, vec![Term::Pid(from.clone()), Term::Pid(to.clone())])
    }

    pub(crate) fn unlink_id(
        id: u64,
        from: &RemotePid,
        to: &RemotePid,
    ) -> Result<Frame, EncodeError> {
        Frame::op(
            UNLINK_ID,
            vec![id.to_term(), Term::Pid(from.clone()), Term::Pid(to.clone())],
        )
    }

    pub(crate) fn unlink_id_ack(
        id: u64,
        from: &RemotePid,
        to: &RemotePid,
    ) -> Result<Frame, EncodeError> {
        Frame::op(
            UNLINK_ID_ACK,
            vec![id.to_term(), Term::Pid(from.clone()), Term::Pid(to.clone())],
        )
    }

    /// A link broke: `from` exited with `reason`.
    pub(crate) fn exit(
        from: &RemotePid,
        to: &RemotePid,
        reason: &Term,
    ) -> Result<Frame, EncodeError> {
        Frame::op(
            PAYLOAD_EXIT,
            vec![Term::Pid(from.clone()), Term::Pid(to.clone())],
        )?
        .payload(reason)
    }

    /// `exit(To, Reason)` sent by `from`.
    pub(crate) fn exit2(
        from: &RemotePid,
        to: &RemotePid,
        reason: &Term,
    ) -> Result<Frame, EncodeError> {
        Frame::op(
            PAYLOAD_EXIT2,
            vec![Term::Pid(from.clone()), Term::Pid(to.clone())],
        )?
        .payload(reason)
    }

    pub(crate) fn monitor(
        from: &RemotePid,
        to: &ProcRef,
        mref: &RemoteRef,
    ) -> Result<Frame, EncodeError> {
        Frame::op(
            MONITOR_P,
            vec![
                Term::Pid(from.clone()),
                to.to_term(),
                Term::Ref(mref.clone()),
            ],
        )
    }

    pub(crate) fn demonitor(
        from: &RemotePid,
        to: &ProcRef,
        mref: &RemoteRef,
    ) -> Result<Frame, EncodeError> {
        Frame::op(
            DEMONITOR_P,
            vec![
                Term::Pid(from.clone()),
                to.to_term(),
                Term::Ref(mref.clone()),
            ],
        )
    }

    /// The monitored `from` exited with `reason`.
    pub(crate) fn monitor_exit(
        from: &ProcRef,
        to: &RemotePid,
        mref: &RemoteRef,
        reason: &Term,
    ) -> Result<Frame, EncodeError> {
        Frame::op(
            PAYLOAD_MONITOR_P_EXIT,
            vec![
                from.to_term(),
                Term::Pid(to.clone()),
                Term::Ref(mref.clone()),
            ],
        )?
        .payload(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::decode_versioned;

    fn parse_frame(frame: &[u8]) -> (Incoming, Option<Term>) {
        let len = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
        assert_eq!(len, frame.len() - 4);
        assert_eq!(frame[4], PASS_THROUGH);
        let (control, used) = decode_versioned(&frame[5..], Default::default()).unwrap();
        let rest = &frame[5 + used..];
        let payload = (!rest.is_empty()).then(|| Term::from_bytes(rest).unwrap());
        (Incoming::parse(control).unwrap(), payload)
    }

    #[test]
    fn frames_parse_back() {
        let n = Atom::new("a@h");
        let p = RemotePid::new(n.clone(), 1, 2, 3);
        let q = RemotePid::new(n.clone(), 4, 5, 6);
        let r = RemoteRef::new(n, 3, &[1, 2, 3]).unwrap();
        let msg = Term::atom("hi");

        let f = Frame::send(&p, &q, &msg).unwrap().finish().unwrap();
        assert_eq!(
            parse_frame(&f),
            (
                Incoming::Send {
                    from: Some(p.clone()),
                    to: q.clone()
                },
                Some(msg.clone())
            )
        );
        let f = Frame::reg_send(&p, &Atom::new("counter"), &msg)
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(
            parse_frame(&f).0,
            Incoming::RegSend {
                from: p.clone(),
                to: Atom::new("counter")
            }
        );
        let f = Frame::exit(&p, &q, &Term::atom("boom"))
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(
            parse_frame(&f),
            (
                Incoming::Exit {
                    from: p.clone(),
                    to: q.clone(),
                    reason: Reason::Payload
                },
                Some(Term::atom("boom"))
            )
        );
        let f = Frame::monitor(&p, &ProcRef::Name(Atom::new("x")), &r)
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(
            parse_frame(&f).0,
            Incoming::Monitor {
                from: p.clone(),
                to: ProcRef::Name(Atom::new("x")),
                mref: r.clone()
            }
        );
        let f = Frame::unlink_id(u64::MAX, &p, &q)
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(
            parse_frame(&f).0,
            Incoming::Unlink {
                id: Some(u64::MAX),
                from: p,
                to: q
            }
        );
    }

    #[test]
    fn malformed_controls_are_errors() {
        assert!(Incoming::parse(Term::atom("x")).is_err());
        assert!(Incoming::parse(Term::tuple(vec![Term::Int(1)])).is_err());
        assert!(Incoming::parse(Term::tuple(vec![
            Term::Int(1),
            Term::atom("a"),
            Term::atom("b")
        ]))
        .is_err());
        assert_eq!(
            Incoming::parse(Term::tuple(vec![Term::Int(7), Term::nil(), Term::nil()])),
            Ok(Incoming::Ignored(7))
        );
    }
}
