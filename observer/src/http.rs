//! A minimal HTTP/1.1 server side: one request per connection, bounded in
//! size and time, answered with `Connection: close`.
//!
//! The observer serves a page and a small JSON API to a browser on the
//! same machine; it needs neither keep-alive nor chunked bodies, and a
//! request that is too large, too slow or malformed is answered with an
//! error status and the connection closed.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The largest request head (request line and headers) accepted.
pub(crate) const MAX_HEAD: usize = 8 * 1024;

/// How long a client may take to send its request, or to take the answer.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// The path, percent-decoded, without the query.
    pub(crate) path: String,
    /// The query's `key=value` pairs, percent-decoded.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request was not read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Too large (431).
    TooLarge,
    /// Not HTTP as this server reads it (400).
    Malformed,
    /// The connection failed or timed out; nothing to answer.
    Io,
}

/// Reads one request head from `stream`.
pub(crate) fn read_request(stream: &mut TcpStream) -> Result<Request, ReadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let end = loop {
        let n = stream.read(&mut chunk).map_err(|_| ReadError::Io)?;
        if n == 0 {
            return Err(ReadError::Malformed);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = find_end(&buf) {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::TooLarge);
        }
    };
    if end > MAX_HEAD {
        return Err(ReadError::TooLarge);
    }
    parse_head(&buf[..end])
}

fn find_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

pub(crate) fn parse_head(head: &[u8]) -> Result<Request, ReadError> {
    let head = std::str::from_utf8(head).map_err(|_| ReadError::Malformed)?;
    let mut lines = head.split("\r\n");
    let line = lines.next().ok_or(ReadError::Malformed)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed);
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Err(ReadError::Malformed);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = percent_decode(path).ok_or(ReadError::Malformed)?;
    let query = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            Some((percent_decode(k)?, percent_decode(v)?))
        })
        .collect::<Option<Vec<_>>>()
        .ok_or(ReadError::Malformed)?;
    let mut headers = Vec::new();
    for h in lines {
        let (k, v) = h.split_once(':').ok_or(ReadError::Malformed)?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    Ok(Request {
        method: method.to_owned(),
        path,
        query,
        headers,
    })
}

/// Decodes `%XX` escapes (and `+` as a space); `None` if an escape is
/// broken or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// An answer.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn json(body: String) -> Self {
        Response {
            status: 200,
            content_type: "application/json; charset=utf-8",
            body: body.into_bytes(),
        }
    }

    pub(crate) fn html(body: &'static str) -> Self {
        Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: body.as_bytes().to_vec(),
        }
    }

    /// An error with a JSON body `{"error": message}`.
    pub(crate) fn error(status: u16, message: &str) -> Self {
        let mut body = String::from("{\"error\":");
        crate::json::string_into(&mut body, message);
        body.push('}');
        Response {
            status,
            content_type: "application/json; charset=utf-8",
            body: body.into_bytes(),
        }
    }

    pub(crate) fn write_to(&self, stream: &mut TcpStream) -> io::Result<()> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            421 => "Misdirected Request",
            431 => "Request Header Fields Too Large",
            503 => "Service Unavailable",
            _ => "Error",
        };
        let head = format!(
            "HTTP/1.1 {} {reason}\r\n\
             Content-Type: {}\r\n\
             Content-Length: {}\r\n\
             Cache-Control: no-store\r\n\
             X-Content-Type-Options: nosniff\r\n\
             X-Frame-Options: DENY\r\n\
             Referrer-Policy: no-referrer\r\n\
             Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; \
             style-src 'unsafe-inline'; connect-src 'self'; img-src data:; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n\
             Connection: close\r\n\r\n",
            self.status,
            self.content_type,
            self.body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(&self.body)?;
        stream.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_get_with_a_query_and_headers_parses() {
        let r = parse_head(
            b"GET /api/processes?sort=memory&limit=5 HTTP/1.1\r\nHost: 127.0.0.1:80\r\nX-A: b",
        )
        .unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/api/processes");
        assert_eq!(r.query("sort"), Some("memory"));
        assert_eq!(r.query("limit"), Some("5"));
        assert_eq!(r.header("host"), Some("127.0.0.1:80"));
    }

    #[test]
    fn escapes_decode_and_broken_ones_are_rejected() {
        let r = parse_head(b"GET /api/process/%3C0.1.1%3E HTTP/1.1").unwrap();
        assert_eq!(r.path, "/api/process/<0.1.1>");
        assert!(parse_head(b"GET /a%zz HTTP/1.1").is_err());
        assert!(parse_head(b"GET /a%ff HTTP/1.1").is_err());
        assert!(parse_head(b"GET nothing HTTP/1.1").is_err());
        assert!(parse_head(b"GET / SPDY/3").is_err());
        assert!(parse_head(b"GET / HTTP/1.1\r\nno colon").is_err());
    }
}
