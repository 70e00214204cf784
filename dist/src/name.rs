//! Node names: `name@host`.

/// Splits a node name into its alive part and host; `None` unless both
/// are non-empty and the alive part uses only letters, digits, `_` and
/// `-`.
pub(crate) fn split(node: &str) -> Option<(&str, &str)> {
    let (alive, host) = node.split_once('@')?;
    let alive_ok = !alive.is_empty()
        && alive
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let host_ok = !host.is_empty() && !host.contains('@');
    (alive_ok && host_ok).then_some((alive, host))
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn names() {
        assert_eq!(split("rotp@127.0.0.1"), Some(("rotp", "127.0.0.1")));
        assert_eq!(split("a-b_1@host.example"), Some(("a-b_1", "host.example")));
        for bad in ["rotp", "@host", "rotp@", "ro tp@h", "a@b@c"] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }
}
