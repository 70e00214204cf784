//! Measurements and metadata: small maps of typed values, borrowed from the
//! event site so that emitting allocates nothing.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use crate::exit::ExitReason;
use crate::pid::Pid;

/// One value of an event's measurements or metadata.
///
/// Values borrow from the event site: a handler reads them while it runs
/// and copies what it keeps. Build them with `From` (`5u64.into()`,
/// `"users".into()`, `pid.into()`) or the variants.
///
/// ```
/// use rotp_runtime::telemetry::Value;
/// use std::time::Duration;
///
/// let v: Value<'_> = Duration::from_millis(3).into();
/// assert_eq!(v.as_duration(), Some(Duration::from_millis(3)));
/// assert_eq!(v.as_f64(), Some(0.003));
/// assert_eq!(Value::from("users").as_str(), Some("users"));
/// ```
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum Value<'a> {
    /// An unsigned count.
    U64(u64),
    /// A signed number.
    I64(i64),
    /// A real number (a ratio, a rate).
    F64(f64),
    /// A flag.
    Bool(bool),
    /// A duration (Elixir's events carry native time units; rotp's carry
    /// durations).
    Duration(Duration),
    /// Text.
    Str(&'a str),
    /// A process.
    Pid(Pid),
    /// An exit reason.
    Reason(&'a ExitReason),
    /// Any other value, for handlers that know its type (a gen_server's
    /// request, say): see [`Value::downcast_ref`].
    Any(&'a dyn Any),
}

impl<'a> Value<'a> {
    /// The value as an unsigned number: `U64`, or a non-negative `I64`.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U64(n) => Some(n),
            Value::I64(n) => u64::try_from(n).ok(),
            _ => None,
        }
    }

    /// The value as a real number: any number, or a duration in seconds.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::U64(n) => Some(n as f64),
            Value::I64(n) => Some(n as f64),
            Value::F64(x) => Some(x),
            Value::Duration(d) => Some(d.as_secs_f64()),
            _ => None,
        }
    }

    /// The value as a duration.
    pub fn as_duration(&self) -> Option<Duration> {
        match *self {
            Value::Duration(d) => Some(d),
            _ => None,
        }
    }

    /// The value as text (`Str` only).
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a pid.
    pub fn as_pid(&self) -> Option<Pid> {
        match *self {
            Value::Pid(p) => Some(p),
            _ => None,
        }
    }

    /// The value as a flag.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value as an exit reason.
    pub fn as_reason(&self) -> Option<&'a ExitReason> {
        match *self {
            Value::Reason(r) => Some(r),
            _ => None,
        }
    }

    /// The value of an `Any` as a `T`, if it is one.
    ///
    /// ```
    /// use rotp_runtime::telemetry::Value;
    /// let request = (1u8, "get");
    /// let v = Value::Any(&request);
    /// assert_eq!(v.downcast_ref::<(u8, &str)>(), Some(&(1, "get")));
    /// assert_eq!(v.downcast_ref::<u8>(), None);
    /// ```
    pub fn downcast_ref<T: Any>(&self) -> Option<&'a T> {
        match *self {
            Value::Any(v) => v.downcast_ref(),
            _ => None,
        }
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => fmt::Debug::fmt(s, f),
            Value::Duration(d) => fmt::Debug::fmt(d, f),
            Value::Any(_) => f.write_str("<any>"),
            other => fmt::Display::fmt(other, f),
        }
    }
}

/// Numbers plainly, durations as `Debug` shows them, text as is, `Any` as
/// `<any>`.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::U64(n) => write!(f, "{n}"),
            Value::I64(n) => write!(f, "{n}"),
            Value::F64(x) => write!(f, "{x}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Duration(d) => write!(f, "{d:?}"),
            Value::Str(s) => f.write_str(s),
            Value::Pid(p) => write!(f, "{p}"),
            Value::Reason(r) => write!(f, "{r}"),
            Value::Any(_) => f.write_str("<any>"),
        }
    }
}

macro_rules! from_number {
    ($($t:ty => $variant:ident as $as:ty),*) => {$(
        impl From<$t> for Value<'_> {
            fn from(v: $t) -> Self {
                Value::$variant(<$as>::from(v))
            }
        }
    )*};
}

from_number!(u8 => U64 as u64, u16 => U64 as u64, u32 => U64 as u64, u64 => U64 as u64,
    i8 => I64 as i64, i16 => I64 as i64, i32 => I64 as i64, i64 => I64 as i64,
    f32 => F64 as f64, f64 => F64 as f64, bool => Bool as bool);

impl From<usize> for Value<'_> {
    fn from(v: usize) -> Self {
        Value::U64(v as u64)
    }
}

impl From<Duration> for Value<'_> {
    fn from(d: Duration) -> Self {
        Value::Duration(d)
    }
}

impl From<Pid> for Value<'_> {
    fn from(p: Pid) -> Self {
        Value::Pid(p)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Str(s)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(s: &'a String) -> Self {
        Value::Str(s)
    }
}

impl<'a> From<&'a ExitReason> for Value<'a> {
    fn from(r: &'a ExitReason) -> Self {
        Value::Reason(r)
    }
}

/// An event's measurements or metadata: named values, in the order the
/// event site gave them.
///
/// ```
/// use rotp_runtime::telemetry::Fields;
/// let entries = [("rows", 3u64.into()), ("table", "users".into())];
/// let fields = Fields::new(&entries);
/// assert_eq!(fields.get("rows").and_then(|v| v.as_u64()), Some(3));
/// assert_eq!(fields.str("table"), Some("users"));
/// assert!(fields.get("nope").is_none());
/// ```
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    entries: &'a [(&'static str, Value<'a>)],
}

/// An event's measurements (numbers: counts, durations, ratios).
pub type Measurements<'a> = Fields<'a>;

/// An event's metadata (what the event is about: pids, names, reasons).
pub type Metadata<'a> = Fields<'a>;

impl<'a> Fields<'a> {
    /// Wraps a slice of named values.
    pub fn new(entries: &'a [(&'static str, Value<'a>)]) -> Self {
        Fields { entries }
    }

    /// The value named `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.entries
            .iter()
            .find_map(|(k, v)| (*k == key).then_some(v))
    }

    /// The value named `key` as an unsigned number.
    pub fn u64(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(Value::as_u64)
    }

    /// The value named `key` as a real number (durations in seconds).
    pub fn f64(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Value::as_f64)
    }

    /// The value named `key` as a duration.
    pub fn duration(&self, key: &str) -> Option<Duration> {
        self.get(key).and_then(Value::as_duration)
    }

    /// The value named `key` as text.
    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Value::as_str)
    }

    /// The value named `key` as a pid.
    pub fn pid(&self, key: &str) -> Option<Pid> {
        self.get(key).and_then(Value::as_pid)
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Value<'a>)> + '_ {
        self.entries.iter().map(|(k, v)| (*k, v))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries as given.
    pub fn as_slice(&self) -> &'a [(&'static str, Value<'a>)] {
        self.entries
    }
}

impl fmt::Debug for Fields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}
