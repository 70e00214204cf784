//! `#[derive(ToTerm, FromTerm)]`: the mapping, round trips, errors.

use std::collections::HashMap;

use rotp_dist::{FromTerm, RemotePid, Term, ToTerm};

#[derive(Debug, Clone, PartialEq, ToTerm, FromTerm)]
enum Cmd {
    Increment,
    IncrementBy(i64),
    Put(String, Vec<u8>),
    Move {
        x: i32,
        y: i32,
    },
    #[term(rename = "EXIT")]
    Exit(RemotePid, Term),
}

#[derive(Debug, Clone, PartialEq, ToTerm, FromTerm)]
struct User {
    name: String,
    age: u8,
    #[term(rename = "e-mail")]
    email: Option<String>,
    tags: HashMap<String, i32>,
}

#[derive(Debug, Clone, PartialEq, ToTerm, FromTerm)]
#[term(record = "person")]
struct Person {
    name: String,
    age: u8,
}

#[derive(Debug, Clone, PartialEq, ToTerm, FromTerm)]
#[term(record)]
struct Point3(i64, i64, i64);

#[derive(Debug, Clone, PartialEq, ToTerm, FromTerm)]
struct Meters(f64);

#[derive(Debug, Clone, PartialEq, ToTerm, FromTerm)]
struct Pair(u8, bool);

#[derive(Debug, Clone, PartialEq, ToTerm, FromTerm)]
struct Ping;

#[derive(Debug, Clone, PartialEq, ToTerm, FromTerm)]
#[term(elixir_struct = "Elixir.MyApp.User")]
struct ExUser {
    name: String,
}

#[derive(Debug, Clone, PartialEq, ToTerm, FromTerm)]
struct Wrapper<T> {
    inner: T,
}

fn round<T: ToTerm + FromTerm + PartialEq + std::fmt::Debug>(v: T, shown: &str) {
    let t = v.to_term();
    assert_eq!(t.to_string(), shown);
    assert_eq!(T::from_term(&t), Ok(v));
}

#[test]
fn enums_are_atoms_and_tagged_tuples() {
    round(Cmd::Increment, "increment");
    round(Cmd::IncrementBy(5), "{increment_by,5}");
    round(
        Cmd::Put("k".into(), vec![1, 2]),
        "{put,<<\"k\"/utf8>>,[1,2]}",
    );
    round(Cmd::Move { x: 1, y: -2 }, "{move,#{x => 1,y => -2}}");
    let pid = RemotePid::new(rotp_dist::Atom::new("a@b"), 1, 2, 3);
    round(
        Cmd::Exit(pid, Term::atom("normal")),
        "{'EXIT',<a@b.1.2>,normal}",
    );
}

#[test]
fn structs_are_maps_records_tuples_and_newtypes() {
    round(
        User {
            name: "ann".into(),
            age: 30,
            email: None,
            tags: HashMap::new(),
        },
        "#{name => <<\"ann\"/utf8>>,age => 30,'e-mail' => nil,tags => #{}}",
    );
    round(
        Person {
            name: "bo".into(),
            age: 4,
        },
        "{person,<<\"bo\"/utf8>>,4}",
    );
    round(Point3(1, 2, 3), "{point3,1,2,3}");
    round(Meters(1.5), "1.5");
    round(Pair(1, true), "{1,true}");
    round(Ping, "ping");
    round(Wrapper { inner: 7u8 }, "#{inner => 7}");
    round(
        ExUser { name: "jo".into() },
        "#{'__struct__' => 'Elixir.MyApp.User',name => <<\"jo\"/utf8>>}",
    );
    // Another struct's map is refused.
    let other = Term::map(vec![
        (Term::atom("__struct__"), Term::atom("Elixir.Other")),
        (Term::atom("name"), Term::binary("jo")),
    ]);
    assert!(ExUser::from_term(&other).is_err());
}

#[test]
fn reading_is_lenient_about_missing_options_and_strict_otherwise() {
    let t = Term::map(vec![
        (Term::atom("name"), Term::binary("x")),
        (Term::atom("age"), Term::Int(1)),
        (Term::atom("tags"), Term::map(vec![])),
    ]);
    assert_eq!(User::from_term(&t).unwrap().email, None);

    let no_age = Term::map(vec![(Term::atom("name"), Term::binary("x"))]);
    let err = User::from_term(&no_age).unwrap_err();
    assert_eq!(err.to_string(), "in User: missing field age");

    let bad = Term::tuple(vec![Term::atom("increment_by"), Term::atom("five")]);
    let err = Cmd::from_term(&bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "in variant increment_by, element 1: expected an integer, found five"
    );
    let err = Cmd::from_term(&Term::atom("decrement")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("expected one of increment | {increment_by, _}"),
        "{err}"
    );
    assert!(Person::from_term(&Term::tuple(vec![
        Term::atom("other"),
        Term::binary("x"),
        Term::Int(1)
    ]))
    .is_err());
}
