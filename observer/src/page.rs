//! The page: one self-contained document (HTML, CSS and script inline, no
//! outside resources) that polls the JSON API every second.

/// The page served at `/`.
pub(crate) const PAGE: &str = include_str!("page.html");
