//! Keeps the line counts of `docs/guide.md` true: for five servers the
//! guide shows the Elixir module beside the rotp server and gives both
//! lengths. This test counts them again — the rotp side in the example
//! itself — checks the guide's numbers and its copy of the rotp code, and
//! checks that no rotp server is longer than its Elixir original.
//!
//! What is counted: non-blank lines that are not comments. For rotp, the
//! server and its client API: an example's lines between its imports and
//! `pub(crate) fn run()` (`run`, `main` and the imports are not counted).
//! For Elixir, the whole module. `cargo test --test line_counts --
//! --nocapture` prints the table.

use std::fs;
use std::path::Path;

/// The guide's name for each server, its example, and a ceiling: the
/// length of the Elixir original the server was first held to, which it
/// must not outgrow whatever the guide's Elixir version counts.
const SERVERS: [(&str, &str, usize); 5] = [
    ("Counter", "counter", 32),
    ("Stack", "stack", 46),
    ("KeyValueStore", "kv_store", 51),
    ("SessionStore", "session_store", 72),
    ("OrderProcessor", "order_state_machine", 45),
];

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}

/// The lines that count: not blank, not a comment.
fn code_lines<'a>(text: &'a str, comment: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with(comment)
        })
        .collect()
}

/// An example's server and client API: from the end of its last top-level
/// `use` to `pub(crate) fn run()`.
fn server_part(example: &str) -> String {
    let lines: Vec<&str> = example.lines().collect();
    let last_use = lines
        .iter()
        .rposition(|l| l.starts_with("use "))
        .expect("the example has imports");
    let imports_end = (last_use..lines.len())
        .find(|&i| lines[i].trim_end().ends_with(';'))
        .expect("the last import ends");
    let run = lines
        .iter()
        .position(|l| l.starts_with("pub(crate) fn run("))
        .expect("the example has a run()");
    assert!(imports_end < run, "the server comes before run()");
    lines[imports_end + 1..run].join("\n")
}

/// The body of the first fenced block of `lang` after `from`.
fn fenced<'a>(text: &'a str, from: usize, lang: &str) -> &'a str {
    let open = format!("```{lang}\n");
    let start = from + text[from..].find(&open).expect("a fenced block") + open.len();
    let end = start + text[start..].find("```").expect("the block ends");
    &text[start..end]
}

#[test]
fn the_guide_counts_are_true_and_rotp_is_not_longer() {
    let guide = read("docs/guide.md");
    println!("| server | Elixir | rotp | ceiling |");
    for (name, example, ceiling) in SERVERS {
        let marker = format!("<!-- lines: {name} -->");
        let at = guide
            .find(&marker)
            .unwrap_or_else(|| panic!("docs/guide.md has no {marker}"));
        let elixir = code_lines(fenced(&guide, at, "elixir"), "#");
        let guide_rotp = code_lines(fenced(&guide, at, "rust"), "//");
        let server = server_part(&read(&format!("examples/{example}.rs")));
        let rotp = code_lines(&server, "//");
        println!("| {name} | {} | {} | {ceiling} |", elixir.len(), rotp.len());

        assert_eq!(
            guide_rotp, rotp,
            "the guide's rotp {name} is examples/{example}.rs's server"
        );
        assert!(
            elixir[0].starts_with(&format!("defmodule {name} do")),
            "the guide's Elixir block for {name} is its module"
        );
        let row = format!("| {name} | {} | {} |", elixir.len(), rotp.len());
        assert!(
            guide.contains(&row),
            "docs/guide.md's table should say `{row}`"
        );
        assert!(
            rotp.len() <= elixir.len() && rotp.len() <= ceiling,
            "rotp's {name} ({} lines) is longer than the Elixir one ({} lines, ceiling {ceiling})",
            rotp.len(),
            elixir.len()
        );
    }
}
