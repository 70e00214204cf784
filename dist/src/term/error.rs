//! Errors of the term codec and of the conversions to Rust types.

use std::borrow::Cow;
use std::fmt;

use thiserror::Error;

use super::Term;

/// Bytes that are not a well-formed term in the external format (or one
/// this node refuses to read).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ends inside a term.
    #[error("the term is truncated")]
    Truncated,
    /// The input does not start with the format's version byte, 131.
    #[error("not the external term format: version byte {0}, expected 131")]
    BadVersion(u8),
    /// A tag this codec does not know.
    #[error("unknown term tag {0}")]
    UnknownTag(u8),
    /// A valid tag whose term this node does not read (compressed terms,
    /// atom cache references, local-only terms).
    #[error("unsupported term: {0}")]
    Unsupported(&'static str),
    /// An atom that is not valid UTF-8 or is too long.
    #[error("invalid atom")]
    InvalidAtom,
    /// Nesting deeper than the node allows.
    #[error("the term nests deeper than {0} levels")]
    TooDeep(u32),
    /// More elements than the node allows in one term.
    #[error("the term has more than {0} elements")]
    TooLarge(u32),
    /// A field holds a value the format does not allow.
    #[error("invalid term: {0}")]
    Invalid(&'static str),
    /// Bytes are left after the term.
    #[error("{0} bytes after the end of the term")]
    Trailing(usize),
}

/// A term too large for the external format (a binary or list of 4 GiB
/// or more elements).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("term too large to encode: {0}")]
pub struct EncodeError(pub(crate) &'static str);

/// A term that does not have the shape a Rust type expects
/// ([`FromTerm`](crate::FromTerm)).
///
/// ```
/// use rotp_dist::{FromTerm, Term};
/// let err = i64::from_term(&Term::atom("ok")).unwrap_err();
/// assert_eq!(err.to_string(), "expected an integer, found ok");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct FromTermError {
    message: Cow<'static, str>,
    /// Where in the term, outermost first (`field x`, `element 2`).
    path: Vec<Cow<'static, str>>,
}

/// The longest rendering of an unexpected term kept in an error.
const SHOWN: usize = 120;

impl FromTermError {
    /// `found` is not what the conversion expected (`expected` reads like
    /// "an integer" or "the atom `ok`").
    pub fn expected(expected: impl Into<Cow<'static, str>>, found: &Term) -> Self {
        let shown = found.display_bounded(SHOWN);
        FromTermError::msg(format!("expected {}, found {shown}", expected.into()))
    }

    /// An error with a message of its own.
    pub fn msg(message: impl Into<Cow<'static, str>>) -> Self {
        FromTermError {
            message: message.into(),
            path: Vec::new(),
        }
    }

    /// Adds the place in the enclosing term where the error happened
    /// (a derived conversion adds `field name` or `element 2`).
    pub fn within(mut self, place: impl Into<Cow<'static, str>>) -> Self {
        self.path.insert(0, place.into());
        self
    }

    /// The message without the path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for FromTermError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "in ")?;
            for (i, p) in self.path.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                f.write_str(p)?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.message)
    }
}

/// A message from another node that its receiver could not take: what
/// arrived and why it did not fit. A process that accepts
/// `Result<T, BadMessage>` gets these as `Err` values; the connection they
/// came over stays up.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum BadMessage {
    /// The bytes are not a term this node reads.
    #[error("undecodable message: {error}")]
    Undecodable {
        /// Why decoding failed.
        error: DecodeError,
        /// How many bytes the message had.
        len: usize,
    },
    /// The term does not convert to the receiver's message type.
    #[error("unexpected message: {error}")]
    Unexpected {
        /// The term that arrived.
        term: Term,
        /// Why it did not convert.
        error: FromTermError,
    },
}
