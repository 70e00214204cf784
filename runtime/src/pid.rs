//! Process identifiers.

use std::fmt;

/// The identifier of a process: a slot in the runtime's process table plus
/// the generation of that slot.
///
/// A `Pid` is a small `Copy` value. It does not keep the process alive, and a
/// stale pid never reaches a newer process that reuses the slot, because the
/// generation differs. It prints like an Erlang pid: `<0.42.1>` is slot 42,
/// generation 1.
///
/// ```
/// let rt = rotp_runtime::Runtime::builder().workers(1).build().unwrap();
/// let addr = rt.spawn_fn(|_msg: (), _ctx| {});
/// assert!(addr.pid().to_string().starts_with("<0."));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid {
    index: u32,
    generation: u32,
}

impl Pid {
    /// The pseudo-process standing for code outside any process (a plain
    /// thread, `main`, the runtime itself). Exit signals sent from outside
    /// carry this pid as their sender, and it is the parent of processes
    /// spawned from outside. It is never alive.
    pub const ROOT: Pid = Pid {
        index: u32::MAX,
        generation: 0,
    };

    pub(crate) const fn new(index: u32, generation: u32) -> Self {
        Pid { index, generation }
    }

    pub(crate) const fn index(self) -> u32 {
        self.index
    }

    pub(crate) const fn generation(self) -> u32 {
        self.generation
    }

    /// Packs the pid into one word (for atomics and compact storage);
    /// [`from_bits`](Pid::from_bits) unpacks it.
    ///
    /// ```
    /// use rotp_runtime::Pid;
    /// assert_eq!(Pid::from_bits(Pid::ROOT.to_bits()), Pid::ROOT);
    /// ```
    pub const fn to_bits(self) -> u64 {
        ((self.index as u64) << 32) | self.generation as u64
    }

    /// The pid packed by [`to_bits`](Pid::to_bits).
    pub const fn from_bits(bits: u64) -> Self {
        Pid {
            index: (bits >> 32) as u32,
            generation: bits as u32,
        }
    }

    /// Whether this is [`Pid::ROOT`].
    pub const fn is_root(self) -> bool {
        self.index == u32::MAX
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            f.write_str("<0.0.0>")
        } else {
            write!(f, "<0.{}.{}>", self.index, self.generation)
        }
    }
}

/// Reads a pid as it prints, `<0.42.1>`, or without the brackets,
/// `0.42.1` (as in a URL). The pid need not be alive.
///
/// ```
/// use rotp_runtime::Pid;
/// let rt = rotp_runtime::Runtime::builder().workers(1).build().unwrap();
/// let pid = rt.spawn_fn(|_msg: (), _ctx| {}).pid();
/// assert_eq!(pid.to_string().parse::<Pid>(), Ok(pid));
/// assert_eq!("<0.0.0>".parse::<Pid>(), Ok(Pid::ROOT));
/// assert!("0.x.1".parse::<Pid>().is_err());
/// ```
impl std::str::FromStr for Pid {
    type Err = ParsePidError;

    fn from_str(s: &str) -> Result<Self, ParsePidError> {
        let inner = s
            .strip_prefix('<')
            .and_then(|s| s.strip_suffix('>'))
            .unwrap_or(s);
        let mut parts = inner.split('.');
        let (Some("0"), Some(index), Some(generation), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ParsePidError(()));
        };
        let index: u32 = index.parse().map_err(|_| ParsePidError(()))?;
        let generation: u32 = generation.parse().map_err(|_| ParsePidError(()))?;
        if index == 0 && generation == 0 {
            return Ok(Pid::ROOT);
        }
        Ok(Pid::new(index, generation))
    }
}

/// Text that is not a pid; see [`Pid`]'s `FromStr`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a pid (expected `<0.N.G>`)")]
pub struct ParsePidError(());

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_bits_round_trip() {
        let pid = Pid::new(42, 1);
        assert_eq!(pid.to_string(), "<0.42.1>");
        assert_eq!(Pid::from_bits(pid.to_bits()), pid);
        assert_eq!(Pid::ROOT.to_string(), "<0.0.0>");
        assert!(Pid::ROOT.is_root());
    }
}
