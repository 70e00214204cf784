//! The `#[gen_server]` attribute of rotp, re-exported as
//! `rotp::gen_server::gen_server` and in `rotp::prelude`.
//!
//! A `GenServer` names five message types: `Args` (what `init` takes),
//! `Call`, `Cast`, `Info` and `Continue`. Most servers use two or three of
//! them, and Rust has no defaults for associated types, so the attribute
//! writes the missing declarations for the user:
//!
//! - a type the impl declares itself (`type Call = Request;`) is kept;
//! - otherwise it is read from the callback that takes it: `Args` from
//!   `init`'s first parameter, `Call`/`Cast`/`Continue` from the message
//!   parameter of `handle_call`/`handle_cast`/`handle_continue`, `Info` from
//!   `handle_info`'s `Info<T>` parameter;
//! - a type no callback takes is `core::convert::Infallible`: no value of
//!   it exists, so no such message can be sent.
//!
//! It also refuses, at compile time, a declared `Call`, `Cast` or
//! `Continue` type without the callback that handles it (the default
//! callback would panic when the first such message arrived).
//!
//! The attribute works on tokens only: it does not parse Rust. It finds the
//! impl's body (the last brace group), the `type NAME` items and the
//! `fn NAME(...)` signatures at the body's top level, and copies the
//! parameter types it needs, with their spans, into the new items.

use proc_macro::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// The message types of a `GenServer` impl, with the callback that takes
/// each and the position of its message parameter.
const TYPES: [(&str, &str, usize); 5] = [
    ("Args", "init", 0),
    ("Call", "handle_call", 1),
    ("Cast", "handle_cast", 1),
    ("Info", "handle_info", 1),
    ("Continue", "handle_continue", 1),
];

/// Fills in the associated types a `GenServer` impl does not declare; see
/// the crate docs.
///
/// ```
/// use rotp_gen_server::{gen_server, noreply, start, Ctx, GenServer, Handled, Init, InitResult, ReplyTo, StartOptions};
///
/// struct Counter(u64);
///
/// enum Call {
///     Get(ReplyTo<u64>),
///     Add(u64, ReplyTo<u64>),
/// }
///
/// #[gen_server]
/// impl GenServer for Counter {
///     // Written by the attribute: `type Args = u64; type Call = Call;
///     // type Cast = u64;` and `Infallible` for `Info` and `Continue`.
///     fn init(start: u64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Counter(start))
///     }
///     fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         match call {
///             Call::Get(r) => r.reply(self.0),
///             Call::Add(n, r) => {
///                 self.0 += n;
///                 r.reply(self.0)
///             }
///         }
///     }
///     fn handle_cast(&mut self, n: u64, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         self.0 = n;
///         noreply()
///     }
/// }
///
/// let rt = rotp_runtime::Runtime::new().unwrap();
/// let counter = start::<Counter>(&rt, 1, StartOptions::new()).unwrap();
/// assert_eq!(counter.call(|r| Call::Add(41, r)).unwrap(), 42);
/// counter.cast(7);
/// assert_eq!(counter.call(Call::Get).unwrap(), 7);
/// ```
///
/// A declared `Call` (or `Cast`, or `Continue`) type without the callback
/// that handles it does not compile: its first message would crash the
/// server.
///
/// ```compile_fail
/// use rotp_gen_server::{gen_server, Ctx, GenServer, Init, InitResult, ReplyTo};
///
/// struct Counter(u64);
///
/// enum Call {
///     Get(ReplyTo<u64>),
/// }
///
/// #[gen_server]
/// impl GenServer for Counter {
///     type Call = Call;
///
///     fn init(start: u64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Counter(start))
///     }
///     // No handle_call.
/// }
/// ```
///
/// Each request carries its own reply port, so `handle_call` is a `match`
/// over the requests, and one the server forgets to handle is a
/// non-exhaustive match, a compile error (`E0004`):
///
/// ```compile_fail,E0004
/// use rotp_gen_server::{gen_server, Ctx, GenServer, Handled, Init, InitResult, ReplyTo};
///
/// struct Counter(u64);
///
/// enum Call {
///     Get(ReplyTo<u64>),
///     Add(u64, ReplyTo<u64>),
/// }
///
/// #[gen_server]
/// impl GenServer for Counter {
///     fn init(start: u64, _ctx: &mut Ctx<'_, Self>) -> InitResult<Self> {
///         Init::ok(Counter(start))
///     }
///     fn handle_call(&mut self, call: Call, _ctx: &mut Ctx<'_, Self>) -> Handled<Self> {
///         match call {
///             Call::Get(r) => r.reply(self.0),
///             // `Call::Add` is not handled.
///         }
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn gen_server(attr: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(t) = attr.into_iter().next() {
        return error(t.span(), "#[gen_server] takes no arguments");
    }
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let is_impl = tokens
        .iter()
        .any(|t| matches!(t, TokenTree::Ident(i) if i.to_string() == "impl"));
    let body = match tokens.last() {
        Some(TokenTree::Group(g)) if is_impl && g.delimiter() == Delimiter::Brace => g.clone(),
        _ => {
            return error(
                Span::call_site(),
                "#[gen_server] goes on an `impl GenServer for T { ... }` block",
            )
        }
    };
    let items: Vec<TokenTree> = body.stream().into_iter().collect();
    let declared = declared_types(&items);
    let fns = signatures(&items);
    let mut added = TokenStream::new();
    for (name, callback, position) in TYPES {
        let takes = fns.iter().find(|(f, _)| f == callback);
        if declared.iter().any(|d| d == name) {
            if takes.is_none() && matches!(name, "Call" | "Cast" | "Continue") {
                return error(
                    body.span(),
                    &format!(
                        "this GenServer declares `type {name}` but has no `{callback}`: \
                         its messages would crash the server"
                    ),
                );
            }
            continue;
        }
        let ty = match takes.and_then(|(_, params)| param_type(params, position)) {
            Some(ty) if name == "Info" => info_parameter(&ty),
            other => other,
        };
        let ty = match ty {
            Some(ty) if names_self_type(&ty, name) => {
                return error(
                    ty[0].span(),
                    &format!("declare `type {name} = ...;`, or name the type here"),
                )
            }
            Some(ty) => ty,
            None if name == "Args" => vec![TokenTree::Group(Group::new(
                Delimiter::Parenthesis,
                TokenStream::new(),
            ))],
            None => infallible(),
        };
        added.extend(type_item(name, ty));
    }
    let mut stream = body.stream();
    stream.extend(added);
    let mut group = Group::new(Delimiter::Brace, stream);
    group.set_span(body.span());
    *tokens.last_mut().expect("the body") = TokenTree::Group(group);
    tokens.into_iter().collect()
}

/// The names of the `type NAME` items at the body's top level.
fn declared_types(items: &[TokenTree]) -> Vec<String> {
    items
        .windows(2)
        .filter_map(|w| match (&w[0], &w[1]) {
            (TokenTree::Ident(kw), TokenTree::Ident(name)) if kw.to_string() == "type" => {
                Some(name.to_string())
            }
            _ => None,
        })
        .collect()
}

/// Each `fn NAME ... (params)` at the body's top level: its name and the
/// tokens of its parameter list.
fn signatures(items: &[TokenTree]) -> Vec<(String, Vec<TokenTree>)> {
    let mut found = Vec::new();
    for (i, t) in items.iter().enumerate() {
        let (TokenTree::Ident(kw), Some(TokenTree::Ident(name))) = (t, items.get(i + 1)) else {
            continue;
        };
        if kw.to_string() != "fn" {
            continue;
        }
        // The parameter list is the first parenthesised group after the
        // name (generics, if any, come between as loose `<`/`>` tokens).
        let params = items[i + 2..].iter().find_map(|t| match t {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis => Some(g),
            _ => None,
        });
        if let Some(params) = params {
            found.push((name.to_string(), params.stream().into_iter().collect()));
        }
    }
    found
}

/// The type of parameter `position` of a parameter list, if it has one.
fn param_type(params: &[TokenTree], position: usize) -> Option<Vec<TokenTree>> {
    let param = split_top_level(params, ',').into_iter().nth(position)?;
    // The type follows the first lone `:` (not half of a path's `::`).
    let colon = (0..param.len()).find(|&i| {
        is_punct(&param[i], ':', Some(Spacing::Alone))
            && !(i > 0 && is_punct(&param[i - 1], ':', Some(Spacing::Joint)))
    })?;
    let ty = param[colon + 1..].to_vec();
    (!ty.is_empty()).then_some(ty)
}

/// For `Info<T>` (the last path segment named `Info`), `T`.
fn info_parameter(ty: &[TokenTree]) -> Option<Vec<TokenTree>> {
    let open = ty.iter().position(|t| is_punct(t, '<', None))?;
    let named_info =
        open > 0 && matches!(&ty[open - 1], TokenTree::Ident(i) if i.to_string() == "Info");
    let close = ty.len() - 1;
    if !named_info || !is_punct(&ty[close], '>', None) || close <= open + 1 {
        return None;
    }
    Some(ty[open + 1..close].to_vec())
}

/// Whether `ty` is `Self::NAME`: the type being inferred, named through
/// itself.
fn names_self_type(ty: &[TokenTree], name: &str) -> bool {
    let text: String = ty.iter().map(|t| t.to_string()).collect();
    text == format!("Self::{name}")
}

/// Splits `tokens` at each `sep` outside angle brackets (groups are single
/// tokens already).
fn split_top_level(tokens: &[TokenTree], sep: char) -> Vec<Vec<TokenTree>> {
    let mut parts = vec![Vec::new()];
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate() {
        if is_punct(t, '<', None) {
            depth += 1;
        } else if is_punct(t, '>', None)
            // The `>` of `->` closes nothing.
            && !(i > 0 && is_punct(&tokens[i - 1], '-', Some(Spacing::Joint)))
        {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && is_punct(t, sep, None) {
            parts.push(Vec::new());
            continue;
        }
        parts.last_mut().expect("a part").push(t.clone());
    }
    parts.retain(|p| !p.is_empty());
    parts
}

fn is_punct(t: &TokenTree, ch: char, spacing: Option<Spacing>) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == ch && spacing.is_none_or(|s| p.spacing() == s))
}

/// `type NAME = TY;`
fn type_item(name: &str, ty: Vec<TokenTree>) -> TokenStream {
    let span = Span::call_site();
    let mut item: Vec<TokenTree> = vec![
        Ident::new("type", span).into(),
        Ident::new(name, span).into(),
        Punct::new('=', Spacing::Alone).into(),
    ];
    item.extend(ty);
    item.push(Punct::new(';', Spacing::Alone).into());
    item.into_iter().collect()
}

/// `::core::convert::Infallible`
fn infallible() -> Vec<TokenTree> {
    let span = Span::call_site();
    let mut path = Vec::new();
    for segment in ["core", "convert", "Infallible"] {
        path.push(Punct::new(':', Spacing::Joint).into());
        path.push(Punct::new(':', Spacing::Alone).into());
        path.push(Ident::new(segment, span).into());
    }
    path
}

/// `::core::compile_error!("message");` at `span`.
fn error(span: Span, message: &str) -> TokenStream {
    let mut tokens: Vec<TokenTree> = Vec::new();
    for segment in ["core", "compile_error"] {
        tokens.push(Punct::new(':', Spacing::Joint).into());
        tokens.push(Punct::new(':', Spacing::Alone).into());
        tokens.push(Ident::new(segment, span).into());
    }
    tokens.push(Punct::new('!', Spacing::Alone).into());
    let mut literal = proc_macro::Literal::string(message);
    literal.set_span(span);
    let mut args = Group::new(Delimiter::Parenthesis, TokenTree::from(literal).into());
    args.set_span(span);
    tokens.push(args.into());
    tokens.push(Punct::new(';', Spacing::Alone).into());
    tokens
        .into_iter()
        .map(|mut t| {
            t.set_span(span);
            t
        })
        .collect()
}
