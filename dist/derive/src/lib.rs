//! `#[derive(ToTerm, FromTerm)]`: Rust types as Erlang terms, and
//! `#[derive(RemoteCall)]`: a GenServer's call enum from the requests of
//! other nodes, for `rotp-dist`. See the `rotp_dist` crate docs for the
//! mapping.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote};
use syn::{
    parse_macro_input, parse_quote, Attribute, Data, DeriveInput, Fields, GenericParam, Ident,
    LitStr, Path, Type,
};

/// Derives `ToTerm`: see the `rotp_dist` crate docs for the mapping.
#[proc_macro_derive(ToTerm, attributes(term))]
pub fn derive_to_term(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, Direction::To)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `FromTerm`: see the `rotp_dist` crate docs for the mapping.
#[proc_macro_derive(FromTerm, attributes(term))]
pub fn derive_from_term(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input, Direction::From)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `RemoteCall` for a GenServer's call enum: see the
/// `rotp_dist::RemoteCall` docs for the mapping.
#[proc_macro_derive(RemoteCall, attributes(term))]
pub fn derive_remote_call(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    remote_call(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    To,
    From,
}

/// The `#[term(...)]` options of one item.
#[derive(Default)]
struct Options {
    krate: Option<Path>,
    rename: Option<String>,
    record: Option<Option<String>>,
    elixir_struct: Option<String>,
}

fn options(attrs: &[Attribute]) -> syn::Result<Options> {
    let mut opts = Options::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("term")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let s: LitStr = meta.value()?.parse()?;
                opts.krate = Some(s.parse()?);
            } else if meta.path.is_ident("rename") {
                let s: LitStr = meta.value()?.parse()?;
                opts.rename = Some(s.value());
            } else if meta.path.is_ident("record") {
                opts.record = Some(if meta.input.peek(syn::Token![=]) {
                    let s: LitStr = meta.value()?.parse()?;
                    Some(s.value())
                } else {
                    None
                });
            } else if meta.path.is_ident("elixir_struct") {
                let s: LitStr = meta.value()?.parse()?;
                opts.elixir_struct = Some(s.value());
            } else {
                return Err(meta.error("expected `crate`, `rename`, `record` or `elixir_struct`"));
            }
            Ok(())
        })?;
    }
    Ok(opts)
}

/// `IncrementBy` → `increment_by`, `HTTPServer` → `http_server`.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if prev_lower || (prev_upper && next_lower) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn check_atom(name: &str, span: Span) -> syn::Result<()> {
    if name.chars().count() > 255 {
        return Err(syn::Error::new(span, "an atom has at most 255 characters"));
    }
    Ok(())
}

fn is_option(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        _ => false,
    }
}

fn expand(input: &DeriveInput, dir: Direction) -> syn::Result<Tokens> {
    let opts = options(&input.attrs)?;
    let krate: Path = opts
        .krate
        .clone()
        .unwrap_or_else(|| parse_quote!(::rotp_dist));
    let name = &input.ident;
    let mut generics = input.generics.clone();
    for param in &mut generics.params {
        if let GenericParam::Type(t) = param {
            match dir {
                Direction::To => t.bounds.push(parse_quote!(#krate::ToTerm)),
                Direction::From => t.bounds.push(parse_quote!(#krate::FromTerm)),
            }
        }
    }
    let (impl_g, ty_g, where_g) = generics.split_for_impl();
    let body = match &input.data {
        Data::Struct(s) => {
            if opts.elixir_struct.is_some()
                && (opts.record.is_some() || !matches!(s.fields, Fields::Named(_)))
            {
                return Err(syn::Error::new_spanned(
                    name,
                    "`elixir_struct` is for structs with named fields, without `record`",
                ));
            }
            struct_body(&krate, name, &opts, &s.fields, dir)?
        }
        Data::Enum(e) => {
            if opts.record.is_some() || opts.elixir_struct.is_some() {
                return Err(syn::Error::new_spanned(
                    name,
                    "`record` and `elixir_struct` are for structs",
                ));
            }
            enum_body(&krate, e, dir)?
        }
        Data::Union(_) => {
            return Err(syn::Error::new_spanned(name, "unions have no term form"));
        }
    };
    Ok(match dir {
        Direction::To => quote! {
            impl #impl_g #krate::ToTerm for #name #ty_g #where_g {
                fn to_term(&self) -> #krate::Term {
                    #body
                }
            }
        },
        Direction::From => quote! {
            impl #impl_g #krate::FromTerm for #name #ty_g #where_g {
                fn from_term(term: &#krate::Term) -> ::core::result::Result<Self, #krate::FromTermError> {
                    #body
                }
            }
        },
    })
}

/// A field's key in a map: its name, or its `rename`.
fn field_key(field: &syn::Field) -> syn::Result<String> {
    let opts = options(&field.attrs)?;
    let ident = field.ident.as_ref().expect("named field");
    let key = opts
        .rename
        .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
    check_atom(&key, ident.span())?;
    Ok(key)
}

/// Builds a map from named fields bound to `bindings`.
fn map_to(
    krate: &Path,
    fields: &syn::FieldsNamed,
    bindings: &[Ident],
    elixir_struct: Option<&str>,
) -> syn::Result<Tokens> {
    let mut pairs = Vec::new();
    if let Some(module) = elixir_struct {
        pairs.push(quote! { (#krate::Term::atom("__struct__"), #krate::Term::atom(#module)) });
    }
    for (f, b) in fields.named.iter().zip(bindings) {
        let key = field_key(f)?;
        pairs.push(quote! { (#krate::Term::atom(#key), #krate::ToTerm::to_term(#b)) });
    }
    Ok(quote! { #krate::Term::Map(::std::vec![#(#pairs),*]) })
}

/// Reads named fields from the map `map`, into the constructor `ctor`.
fn map_from(
    krate: &Path,
    fields: &syn::FieldsNamed,
    map: Tokens,
    ctor: Tokens,
    what: &str,
) -> syn::Result<Tokens> {
    let mut inits = Vec::new();
    for f in &fields.named {
        let ident = f.ident.as_ref().expect("named field");
        let key = field_key(f)?;
        let place = format!("field {key}");
        let missing = if is_option(&f.ty) {
            quote! { ::core::option::Option::None }
        } else {
            let msg = format!("missing field {key}");
            quote! { return ::core::result::Result::Err(#krate::FromTermError::msg(#msg).within(#what)) }
        };
        inits.push(quote! {
            #ident: match __map.map_get_atom(#key) {
                ::core::option::Option::Some(v) => #krate::FromTerm::from_term(v)
                    .map_err(|e| e.within(#place).within(#what))?,
                ::core::option::Option::None => #missing,
            }
        });
    }
    let expected = format!("a map for {what}");
    Ok(quote! {{
        let __map = #map;
        if !::core::matches!(__map, #krate::Term::Map(_)) {
            return ::core::result::Result::Err(#krate::FromTermError::expected(#expected, __map));
        }
        ::core::result::Result::Ok(#ctor { #(#inits),* })
    }})
}

fn struct_body(
    krate: &Path,
    name: &Ident,
    opts: &Options,
    fields: &Fields,
    dir: Direction,
) -> syn::Result<Tokens> {
    let type_name = name.to_string();
    let tag = opts
        .rename
        .clone()
        .unwrap_or_else(|| snake_case(&type_name));
    check_atom(&tag, name.span())?;
    let record_tag = match &opts.record {
        Some(Some(t)) => Some(t.clone()),
        Some(None) => Some(tag.clone()),
        None => None,
    };
    if let Some(t) = &record_tag {
        check_atom(t, name.span())?;
    }
    match (fields, dir) {
        (Fields::Unit, Direction::To) => Ok(quote! { #krate::Term::atom(#tag) }),
        (Fields::Unit, Direction::From) => Ok(quote! {
            if term.is_atom(#tag) {
                ::core::result::Result::Ok(#name)
            } else {
                ::core::result::Result::Err(#krate::FromTermError::expected(::core::concat!("the atom ", #tag), term))
            }
        }),
        (fields, _) if record_tag.is_some() => {
            let t = record_tag.expect("checked");
            let n = fields.len();
            let members: Vec<Tokens> = fields
                .iter()
                .enumerate()
                .map(|(i, f)| match &f.ident {
                    Some(id) => quote! { #id },
                    None => {
                        let i = syn::Index::from(i);
                        quote! { #i }
                    }
                })
                .collect();
            match dir {
                Direction::To => Ok(quote! {
                    #krate::Term::Tuple(::std::vec![
                        #krate::Term::atom(#t),
                        #(#krate::ToTerm::to_term(&self.#members)),*
                    ])
                }),
                Direction::From => {
                    let reads = (0..n).map(|i| {
                        let place = format!("element {}", i + 1);
                        quote! { #krate::FromTerm::from_term(&__t[#i + 1]).map_err(|e| e.within(#place))? }
                    });
                    let ctor = match fields {
                        Fields::Named(named) => {
                            let ids = named.named.iter().map(|f| f.ident.clone().expect("named"));
                            let reads: Vec<Tokens> = reads.collect();
                            quote! { #name { #(#ids: #reads),* } }
                        }
                        _ => quote! { #name ( #(#reads),* ) },
                    };
                    let expected = format!("a {{{t}, ...}} record of {} fields", n);
                    Ok(quote! {
                        match term {
                            #krate::Term::Tuple(__t) if __t.len() == #n + 1 && __t[0].is_atom(#t) => {
                                ::core::result::Result::Ok(#ctor)
                            }
                            other => ::core::result::Result::Err(#krate::FromTermError::expected(#expected, other)),
                        }
                    })
                }
            }
        }
        (Fields::Named(named), Direction::To) => {
            let bindings: Vec<Ident> = named
                .named
                .iter()
                .map(|f| f.ident.clone().expect("named"))
                .collect();
            let map = map_to(krate, named, &bindings, opts.elixir_struct.as_deref())?;
            Ok(quote! {
                let #name { #(#bindings),* } = self;
                #map
            })
        }
        (Fields::Named(named), Direction::From) => {
            let read = map_from(krate, named, quote! { term }, quote! { #name }, &type_name)?;
            match &opts.elixir_struct {
                Some(module) => {
                    let expected =
                        format!("a %{}{{}} struct", module.trim_start_matches("Elixir."));
                    Ok(quote! {
                        if !term.map_get_atom("__struct__").is_some_and(|m| m.is_atom(#module)) {
                            return ::core::result::Result::Err(
                                #krate::FromTermError::expected(#expected, term),
                            );
                        }
                        #read
                    })
                }
                None => Ok(read),
            }
        }
        (Fields::Unnamed(un), Direction::To) if un.unnamed.len() == 1 => {
            Ok(quote! { #krate::ToTerm::to_term(&self.0) })
        }
        (Fields::Unnamed(un), Direction::From) if un.unnamed.len() == 1 => Ok(quote! {
            #krate::FromTerm::from_term(term).map(#name)
        }),
        (Fields::Unnamed(un), Direction::To) => {
            let idx = (0..un.unnamed.len()).map(syn::Index::from);
            Ok(quote! {
                #krate::Term::Tuple(::std::vec![#(#krate::ToTerm::to_term(&self.#idx)),*])
            })
        }
        (Fields::Unnamed(un), Direction::From) => {
            let n = un.unnamed.len();
            let reads = (0..n).map(|i| {
                let place = format!("element {i}");
                quote! { #krate::FromTerm::from_term(&__t[#i]).map_err(|e| e.within(#place))? }
            });
            let expected = format!("a tuple of {n} for {type_name}");
            Ok(quote! {
                match term {
                    #krate::Term::Tuple(__t) if __t.len() == #n => ::core::result::Result::Ok(#name(#(#reads),*)),
                    other => ::core::result::Result::Err(#krate::FromTermError::expected(#expected, other)),
                }
            })
        }
    }
}

fn enum_body(krate: &Path, data: &syn::DataEnum, dir: Direction) -> syn::Result<Tokens> {
    let mut to_arms = Vec::new();
    let mut atom_arms = Vec::new();
    let mut tuple_arms = Vec::new();
    let mut shapes = Vec::new();
    for v in &data.variants {
        let vopts = options(&v.attrs)?;
        if vopts.record.is_some() || vopts.krate.is_some() {
            return Err(syn::Error::new_spanned(v, "a variant takes only `rename`"));
        }
        let ident = &v.ident;
        let tag = vopts
            .rename
            .unwrap_or_else(|| snake_case(&ident.to_string()));
        check_atom(&tag, ident.span())?;
        let what = format!("variant {tag}");
        match &v.fields {
            Fields::Unit => {
                to_arms.push(quote! { Self::#ident => #krate::Term::atom(#tag) });
                atom_arms.push(quote! { #tag => ::core::result::Result::Ok(Self::#ident) });
                shapes.push(tag.clone());
            }
            Fields::Unnamed(un) => {
                let n = un.unnamed.len();
                let binds: Vec<Ident> = (0..n).map(|i| format_ident!("__f{i}")).collect();
                to_arms.push(quote! {
                    Self::#ident(#(#binds),*) => #krate::Term::Tuple(::std::vec![
                        #krate::Term::atom(#tag),
                        #(#krate::ToTerm::to_term(#binds)),*
                    ])
                });
                let reads = (0..n).map(|i| {
                    let place = format!("element {}", i + 1);
                    quote! { #krate::FromTerm::from_term(&__t[#i + 1]).map_err(|e| e.within(#place).within(#what))? }
                });
                tuple_arms.push(quote! {
                    (#tag, __len) if __len == #n + 1 => ::core::result::Result::Ok(Self::#ident(#(#reads),*))
                });
                shapes.push(format!("{{{tag}, {}}}", vec!["_"; n].join(", ")));
            }
            Fields::Named(named) => {
                let binds: Vec<Ident> = named
                    .named
                    .iter()
                    .map(|f| f.ident.clone().expect("named"))
                    .collect();
                let map = map_to(krate, named, &binds, None)?;
                to_arms.push(quote! {
                    Self::#ident { #(#binds),* } => #krate::Term::Tuple(::std::vec![#krate::Term::atom(#tag), #map])
                });
                let read = map_from(
                    krate,
                    named,
                    quote! { &__t[1] },
                    quote! { Self::#ident },
                    &what,
                )?;
                tuple_arms.push(quote! { (#tag, 2) => #read });
                shapes.push(format!("{{{tag}, #{{...}}}}"));
            }
        }
    }
    let expected = format!("one of {}", shapes.join(" | "));
    Ok(match dir {
        Direction::To => quote! {
            match self {
                #(#to_arms,)*
            }
        },
        Direction::From => quote! {
            let __fail = || #krate::FromTermError::expected(#expected, term);
            match term {
                #krate::Term::Atom(__a) => match __a.as_str() {
                    #(#atom_arms,)*
                    _ => ::core::result::Result::Err(__fail()),
                },
                #krate::Term::Tuple(__t) if !__t.is_empty() => match &__t[0] {
                    #krate::Term::Atom(__a) => match (__a.as_str(), __t.len()) {
                        #(#tuple_arms,)*
                        _ => ::core::result::Result::Err(__fail()),
                    },
                    _ => ::core::result::Result::Err(__fail()),
                },
                _ => ::core::result::Result::Err(__fail()),
            }
        },
    })
}

/// Whether `ty` is a `ReplyTo<..>`.
fn is_reply_to(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "ReplyTo"),
        _ => false,
    }
}

fn remote_call(input: &DeriveInput) -> syn::Result<Tokens> {
    let opts = options(&input.attrs)?;
    let krate: Path = opts.krate.unwrap_or_else(|| parse_quote!(::rotp_dist));
    let name = &input.ident;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "RemoteCall is for a server's call enum",
        ));
    };
    let (impl_g, ty_g, where_g) = input.generics.split_for_impl();
    let mut atom_arms = Vec::new();
    let mut tuple_arms = Vec::new();
    let mut shapes = Vec::new();
    for v in &data.variants {
        let vopts = options(&v.attrs)?;
        let ident = &v.ident;
        let tag = vopts
            .rename
            .unwrap_or_else(|| snake_case(&ident.to_string()));
        check_atom(&tag, ident.span())?;
        let what = format!("variant {tag}");
        let Fields::Unnamed(un) = &v.fields else {
            return Err(syn::Error::new_spanned(
                v,
                "each variant of a call enum is a tuple variant ending with its ReplyTo",
            ));
        };
        let fields: Vec<&syn::Field> = un.unnamed.iter().collect();
        let Some((last, args)) = fields.split_last() else {
            return Err(syn::Error::new_spanned(
                v,
                "a call variant ends with its ReplyTo",
            ));
        };
        if !is_reply_to(&last.ty) {
            return Err(syn::Error::new_spanned(
                &last.ty,
                "a call variant ends with its ReplyTo",
            ));
        }
        let n = args.len();
        if n == 0 {
            atom_arms
                .push(quote! { #tag => ::core::result::Result::Ok(Self::#ident(reply.port())) });
            shapes.push(tag.clone());
        } else {
            let reads = (0..n).map(|i| {
                let place = format!("element {}", i + 1);
                quote! { #krate::FromTerm::from_term(&__t[#i + 1]).map_err(|e| e.within(#place).within(#what))? }
            });
            tuple_arms.push(quote! {
                (#tag, __len) if __len == #n + 1 => ::core::result::Result::Ok(Self::#ident(#(#reads,)* reply.port()))
            });
            shapes.push(format!("{{{tag}, {}}}", vec!["_"; n].join(", ")));
        }
    }
    let expected = format!("one of {}", shapes.join(" | "));
    Ok(quote! {
        impl #impl_g #krate::RemoteCall for #name #ty_g #where_g {
            fn from_remote(
                term: &#krate::Term,
                reply: #krate::RemoteReply,
            ) -> ::core::result::Result<Self, #krate::FromTermError> {
                let __fail = || #krate::FromTermError::expected(#expected, term);
                match term {
                    #krate::Term::Atom(__a) => match __a.as_str() {
                        #(#atom_arms,)*
                        _ => ::core::result::Result::Err(__fail()),
                    },
                    #krate::Term::Tuple(__t) if !__t.is_empty() => match &__t[0] {
                        #krate::Term::Atom(__a) => match (__a.as_str(), __t.len()) {
                            #(#tuple_arms,)*
                            _ => ::core::result::Result::Err(__fail()),
                        },
                        _ => ::core::result::Result::Err(__fail()),
                    },
                    _ => ::core::result::Result::Err(__fail()),
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_names() {
        assert_eq!(snake_case("Increment"), "increment");
        assert_eq!(snake_case("IncrementBy"), "increment_by");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("Get2Items"), "get2_items");
        assert_eq!(snake_case("A"), "a");
    }
}
