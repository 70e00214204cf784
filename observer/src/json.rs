//! A small JSON writer: enough for the API's documents, with strings
//! escaped so that any user data (process names, exit reasons, state
//! summaries) stays a string.

use std::fmt::Write;

/// Builds one JSON document.
#[derive(Debug, Default)]
pub(crate) struct Json {
    out: String,
    /// Whether the container being written needs a comma before the next
    /// item, one entry per open container.
    comma: Vec<bool>,
}

impl Json {
    pub(crate) fn new() -> Self {
        Json::default()
    }

    pub(crate) fn finish(self) -> String {
        debug_assert!(self.comma.is_empty(), "unclosed container");
        self.out
    }

    fn item(&mut self) {
        if let Some(c) = self.comma.last_mut() {
            if *c {
                self.out.push(',');
            }
            *c = true;
        }
    }

    pub(crate) fn open_object(&mut self) -> &mut Self {
        self.item();
        self.out.push('{');
        self.comma.push(false);
        self
    }

    pub(crate) fn close_object(&mut self) -> &mut Self {
        self.comma.pop();
        self.out.push('}');
        self
    }

    pub(crate) fn open_array(&mut self) -> &mut Self {
        self.item();
        self.out.push('[');
        self.comma.push(false);
        self
    }

    pub(crate) fn close_array(&mut self) -> &mut Self {
        self.comma.pop();
        self.out.push(']');
        self
    }

    /// A key inside an object; the next value written is its value.
    pub(crate) fn key(&mut self, k: &str) -> &mut Self {
        self.item();
        string_into(&mut self.out, k);
        self.out.push(':');
        // The value follows the key without a comma.
        if let Some(c) = self.comma.last_mut() {
            *c = false;
        }
        self
    }

    pub(crate) fn str(&mut self, s: &str) -> &mut Self {
        self.item();
        string_into(&mut self.out, s);
        self
    }

    pub(crate) fn opt_str(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    pub(crate) fn null(&mut self) -> &mut Self {
        self.item();
        self.out.push_str("null");
        self
    }

    pub(crate) fn bool(&mut self, b: bool) -> &mut Self {
        self.item();
        self.out.push_str(if b { "true" } else { "false" });
        self
    }

    pub(crate) fn u64(&mut self, n: u64) -> &mut Self {
        self.item();
        let _ = write!(self.out, "{n}");
        self
    }

    /// A real number; not-a-number and infinities (which JSON lacks)
    /// become `null`.
    pub(crate) fn f64(&mut self, x: f64) -> &mut Self {
        if !x.is_finite() {
            return self.null();
        }
        self.item();
        let _ = write!(self.out, "{}", (x * 1000.0).round() / 1000.0);
        self
    }

    /// `"key": "value"` in one go.
    pub(crate) fn field_str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k).str(v)
    }

    pub(crate) fn field_u64(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k).u64(v)
    }
}

/// Writes `s` as a JSON string. Besides the required escapes, `<`, `>`
/// and `&` are escaped too, so a document stays inert even if something
/// treats it as HTML.
pub(crate) fn string_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_documents_have_commas_in_the_right_places() {
        let mut j = Json::new();
        j.open_object()
            .field_str("a", "x")
            .key("b")
            .open_array()
            .u64(1)
            .u64(2)
            .open_object()
            .field_u64("c", 3)
            .close_object()
            .close_array()
            .key("d")
            .null()
            .close_object();
        assert_eq!(j.finish(), r#"{"a":"x","b":[1,2,{"c":3}],"d":null}"#);
    }

    #[test]
    fn strings_are_escaped_including_markup() {
        let mut out = String::new();
        string_into(&mut out, "<script>\"a\\b\"\n\u{1}&");
        assert_eq!(out, r#""\u003cscript\u003e\"a\\b\"\n\u0001\u0026""#);
    }

    #[test]
    fn non_finite_numbers_are_null() {
        let mut j = Json::new();
        j.open_array().f64(f64::NAN).f64(0.12345).close_array();
        assert_eq!(j.finish(), "[null,0.123]");
    }
}
