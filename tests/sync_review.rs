//! Cases found by reviewing the sync core as a user would (`scope!`,
//! `defer!`, `Error`, `suppress`): each failed before its fix.

mod common;

use common::Journal;
use managed::{defer, scope, suppress, with, Error};

fn lines(j: &Journal) -> Vec<String> {
    j.lines()
}

/// Items are visible in their whole block, also above their declaration; the
/// expansion nests the rest of the scope after each split point in a closure,
/// which hid an item declared below a `with!`/`defer!` from the code above.
#[test]
fn items_declared_below_a_split_point_are_visible_above_it() {
    let j = Journal::new();
    let r: Result<String, Error> = scope! {
        let n = helper();
        with!(j.probe("a"))?;
        defer!(j.push(format!("defer {}", Shown(n))));
        fn helper() -> usize {
            7
        }
        struct Shown(usize);
        impl std::fmt::Display for Shown {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "#{}", self.0)
            }
        }
        // `macro_rules!` keeps its textual scope: defined here, used below.
        macro_rules! twice {
            ($e:expr) => {
                $e * 2
            };
        }
        Ok(Shown(twice!(n)).to_string())
    };
    assert_eq!(r.ok().as_deref(), Some("#14"));
    assert_eq!(lines(&j), ["enter a", "defer #7", "exit a ok"]);
}

/// `suppress` does not look into an `anyhow::Error` (anyhow's downcast needs
/// bounds a generic `E` lacks); its docs say to name `anyhow::Error` and
/// look inside in the predicate, which this checks.
#[test]
fn suppress_over_anyhow_names_anyhow_error() {
    use std::io::ErrorKind;
    let not_found = suppress(|e: &std::io::Error| e.kind() == ErrorKind::NotFound);
    let wrapped = || Err::<(), _>(anyhow::Error::new(std::io::Error::from(ErrorKind::NotFound)));
    assert!(not_found.run(wrapped).is_err(), "not looked into");
    let via_anyhow = suppress(|e: &anyhow::Error| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == ErrorKind::NotFound)
    });
    assert!(matches!(via_anyhow.run(wrapped), Ok(None)));
    // Through `managed::Error` converted from anyhow, `Outcome::error` finds the anyhow error.
    let managed_err =
        || Err::<(), _>(Error::from_anyhow(anyhow::Error::new(std::io::Error::from(ErrorKind::NotFound))));
    assert!(matches!(via_anyhow.run(managed_err), Ok(None)));
}
