//! The compile errors of `tests/ui/` speak the user's words: no `.stderr`
//! names an item the user cannot name, whether in rustc's message, in a
//! "required by a bound in" note or in quoted source of `managed-core`.
//!
//! The internal names are read from the code, so that a new support item is
//! covered the day it is added:
//!
//! - every item the facade's `__private` module re-exports from
//!   `managed-core` (its globs expanded by reading the modules' files);
//! - every type, trait and alias `managed-core` declares without plain `pub`
//!   (`pub(crate)`, `pub(super)`, private): internal by definition;
//! - the crates behind the facade (`managed_core`, `managed_macros`) and the
//!   names of generated code (`__private`, `__managed_*`).
//!
//! A name the case's own `.rs` file contains is the user's (a case may
//! define a `Level` of its own), and a name the facade exports publicly is
//! the public item's.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The cases that still name internal items, each with exactly the names it
/// shows (a case that shows fewer or more fails the test, so the list only
/// shrinks). Each is a message still to be rewritten.
const KNOWN_LEAKS: &[(&str, &[&str])] = &[
    ("tests/ui/async-scope/async-manager-in-sync-scope.stderr", &["__private"]),
    (
        "tests/ui/async-scope/box-dyn-error-without-send-sync.stderr",
        &["Panicked", "ScopeError", "__private", "outcome_of"],
    ),
    (
        "tests/ui/async-scope/future-of-manager-not-awaited.stderr",
        &["AdaptSync", "AsyncSlot", "SyncInAsync", "__private"],
    ),
    ("tests/ui/async-scope/non-send-manager-in-spawned-scope.stderr", &["AsyncSlot", "__private"]),
    ("tests/ui/async-scope/not-a-manager.stderr", &["AdaptSync", "AsyncSlot", "SyncInAsync", "__private"]),
    ("tests/ui/defer/closure-with-two-arguments.stderr", &["__private"]),
    ("tests/ui/exit_stack/async-stack-held-across-await-in-spawn.stderr", &["AsyncExit", "Local", "managed_core"]),
    (
        "tests/ui/managed/fn-async-return-ok-before-yield.stderr",
        &["EnterFailure", "__private", "coroutine", "enter_failed"],
    ),
    ("tests/ui/managed/fn-async-yield-wrong-type.stderr", &["coroutine"]),
    ("tests/ui/managed/fn-bare-return-before-yield.stderr", &["EnterFailure", "__private", "fn_enter_failed"]),
    ("tests/ui/managed/fn-return-ok-before-yield.stderr", &["EnterFailure", "__private", "fn_enter_failed"]),
    ("tests/ui/managed/fn-returns-option.stderr", &["Returns", "__private"]),
    ("tests/ui/managed/impl-async-disagreeing-error-types.stderr", &["Returns"]),
    ("tests/ui/managed/impl-async-used-in-sync-scope.stderr", &["__private"]),
    ("tests/ui/managed/impl-disagreeing-error-types.stderr", &["Returns"]),
    (
        "tests/ui/managed/struct-async-field-not-an-async-manager.stderr",
        &["AsyncFieldManager", "__private", "async_managed_field", "cancel_slot_async"],
    ),
    ("tests/ui/managed/struct-async-fn-hook-without-async.stderr", &["Fallible", "__private"]),
    (
        "tests/ui/managed/struct-async-hook-not-async.stderr",
        &["AsyncHook", "__private", "async_hook", "cancel_hook_async"],
    ),
    (
        "tests/ui/managed/struct-async-hook-returns-wrong-type.stderr",
        &["AsyncHook", "AsyncHookOutput", "__private", "async_hook"],
    ),
    ("tests/ui/managed/struct-async-hook-used-in-sync-scope.stderr", &["__private"]),
    (
        "tests/ui/managed/struct-field-error-does-not-convert.stderr",
        &["Convert", "Exits", "ViaFrom", "__private", "enter_slot"],
    ),
    ("tests/ui/managed/struct-field-is-a-reference.stderr", &["FieldManager", "__private", "managed_field"]),
    ("tests/ui/managed/struct-field-not-a-manager.stderr", &["FieldManager", "__private", "managed_field"]),
    ("tests/ui/managed/struct-hook-returns-wrong-type.stderr", &["Fallible", "__private"]),
    ("tests/ui/scope/body-not-a-result.stderr", &["__private"]),
    ("tests/ui/scope/box-dyn-error-without-send-sync.stderr", &["ScopeError", "__private", "exit_level_if_entered"]),
    ("tests/ui/scope/empty.stderr", &["__private"]),
    ("tests/ui/scope/error-type-not-inferred.stderr", &["Convert", "ViaFrom", "__private", "exit_level_if_entered"]),
    ("tests/ui/scope/return-borrowed-target.stderr", &["__private"]),
    ("tests/ui/scope/tail-type-mismatch.stderr", &["__private"]),
    ("tests/ui/scope/target-sent-to-thread.stderr", &["__private"]),
    ("tests/ui/scope/two-managers-borrow-one-buffer.stderr", &["__private"]),
    ("tests/ui/scope/use-target-after-scope.stderr", &["__private"]),
    ("tests/ui/scoped/async-not-a-manager.stderr", &["AdaptSync", "AsyncSlot", "SyncInAsync", "__private"]),
    ("tests/ui/scoped/not-a-manager.stderr", &["__private"]),
    ("tests/ui/with/manager-by-reference.stderr", &["__private"]),
    (
        "tests/ui/with/manager-error-not-convertible.stderr",
        &["Convert", "ViaFrom", "__private", "exit_level_if_entered"],
    ),
    ("tests/ui/with/not-a-manager.stderr", &["__private"]),
    ("tests/ui/with/result-of-manager-not-unwrapped.stderr", &["__private"]),
    ("tests/ui/with/target-used-after-scope-in-closure.stderr", &["__private"]),
];

#[test]
fn no_stderr_names_an_internal_item() {
    let internal = internal_names();
    // The scan must see the support items it exists for: an empty or tiny
    // list (a moved module, a renamed `__private`) would pass everything.
    for expected in ["manager_error", "AsyncSlot", "Convert", "Slot"] {
        let known = internal.contains(expected) || public_names().contains(expected);
        assert!(known, "the internal-name scan no longer finds `{expected}`: see internal_names()");
    }
    assert!(internal.len() > 50, "only {} internal names found: see internal_names()", internal.len());

    let mut leaks: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut cases = 0;
    for stderr in files_under(&Path::new(ROOT).join("tests/ui"), "stderr") {
        cases += 1;
        let text = read(&stderr);
        let source = fs::read_to_string(stderr.with_extension("rs")).unwrap_or_default();
        let users: BTreeSet<&str> = identifiers(&source).collect();
        for ident in identifiers(&text) {
            let internal = internal.contains(ident) || ident.starts_with("__managed");
            if internal && !users.contains(ident) {
                let case = stderr.strip_prefix(ROOT).unwrap_or(&stderr).display().to_string();
                leaks.entry(case).or_default().insert(ident.to_string());
            }
        }
    }
    assert!(cases > 100, "found only {cases} .stderr files under tests/ui");
    for (case, names) in KNOWN_LEAKS {
        let found = leaks.remove(*case).unwrap_or_default();
        let listed: BTreeSet<String> = names.iter().map(ToString::to_string).collect();
        assert!(
            found == listed,
            "{case} is listed in KNOWN_LEAKS with {listed:?} but names {found:?}: update the list \
             (remove the case when it names nothing internal)"
        );
    }
    let report: Vec<String> = leaks.iter().map(|(case, names)| format!("{case}: {names:?}")).collect();
    assert!(
        leaks.is_empty(),
        "{} ui cases name internal items (write an on_unimplemented message, a check in the macro, \
         or a span that keeps rustc on the user's code):\n{}",
        leaks.len(),
        report.join("\n")
    );
}

fn internal_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let facade = read(&Path::new(ROOT).join("src/lib.rs"));
    let private = private_module(&facade);
    for path in use_paths(private) {
        let Some(rest) = path.strip_prefix("managed_core::") else { continue };
        names.extend(imported_names(rest));
    }
    for file in files_under(&Path::new(ROOT).join("managed-core/src"), "rs") {
        for item in items(&read(&file)) {
            if !item.public && item.is_type {
                names.insert(item.name);
            }
        }
    }
    names.extend(["managed_core", "managed_macros", "__private"].map(String::from));
    let public = public_names();
    names.retain(|name| !public.contains(name));
    names
}

/// The names the facade exports outside `__private` (its `pub use`s), and
/// the `pub` items of `managed-core`'s public modules that they reach.
fn public_names() -> BTreeSet<String> {
    let facade = read(&Path::new(ROOT).join("src/lib.rs"));
    let private = private_module(&facade);
    let outside = facade.replace(private, "");
    let mut names = BTreeSet::new();
    for path in use_paths(&outside) {
        let Some(rest) = path.strip_prefix("managed_core::") else {
            names.extend(last_names(&path));
            continue;
        };
        names.extend(last_names(rest));
        // A public module: its `pub` items are public too.
        if let Some(file) = module_file(rest.trim_end_matches("::*")) {
            names.extend(items(&read(&file)).into_iter().filter(|item| item.public).map(|item| item.name));
        }
    }
    // The `pub` methods of the types: `AsyncExitStack::enter_async` is the
    // user's word even though a support fn has the same name (whose path
    // still shows `__private`).
    for file in files_under(&Path::new(ROOT).join("managed-core/src"), "rs") {
        names.extend(public_methods(&read(&file)));
    }
    names
}

/// The names `use managed_core::<rest>` brings in: the listed ones, or for
/// a glob every `pub` item of the module (following its own `pub use`s).
fn imported_names(rest: &str) -> Vec<String> {
    if let Some(module) = rest.strip_suffix("::*") {
        let Some(file) = module_file(module) else {
            panic!("`__private` re-exports `managed_core::{module}::*`, whose file was not found");
        };
        let text = read(&file);
        let mut names: Vec<String> = items(&text).into_iter().filter(|i| i.public).map(|i| i.name).collect();
        for path in use_paths(&text) {
            let inner = path.trim_start_matches("self::").trim_start_matches("crate::");
            let inner = if path.starts_with("crate::") { inner.to_string() } else { format!("{module}::{inner}") };
            if inner.ends_with("::*") {
                names.extend(imported_names(&inner));
            } else {
                names.extend(last_names(&inner));
            }
        }
        names
    } else {
        last_names(rest)
    }
}

/// The body of `pub mod __private { .. }` in the facade.
fn private_module(facade: &str) -> &str {
    let start = facade.find("pub mod __private {").expect("the facade declares `pub mod __private`");
    let mut depth = 0;
    for (offset, c) in facade[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &facade[start..start + offset];
                }
            }
            _ => {}
        }
    }
    panic!("`pub mod __private` is not closed")
}

/// The paths of the `pub use ..;` declarations in `text` (on one line).
fn use_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("pub use ") {
        let after = &rest[at + "pub use ".len()..];
        let end = after.find(';').unwrap_or(after.len());
        paths.push(after[..end].split_whitespace().collect::<Vec<_>>().join(" "));
        rest = &after[end..];
    }
    paths
}

/// `a::b::{C, D as E}` -> `C`, `E`; `a::b::C` -> `C`; `a::b` -> `b`.
fn last_names(path: &str) -> Vec<String> {
    let (_, tail) = match path.find('{') {
        Some(open) => path.split_at(open),
        None if path.ends_with("::*") => return Vec::new(),
        None => path.rsplit_once("::").unwrap_or(("", path)),
    };
    tail.trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .filter_map(|part| part.rsplit(" as ").next())
        .map(|name| name.rsplit("::").next().unwrap_or(name).trim().to_string())
        .filter(|name| !name.is_empty() && name != "self" && name != "*")
        .collect()
}

/// `managed-core/src/a/b.rs` or `a/b/mod.rs` for the module `a::b`.
fn module_file(module: &str) -> Option<PathBuf> {
    let base = Path::new(ROOT).join("managed-core/src").join(module.replace("::", "/"));
    [base.with_extension("rs"), base.join("mod.rs")].into_iter().find(|file| file.is_file())
}

struct Item {
    name: String,
    public: bool,
    is_type: bool,
}

/// The items declared at the start of a line (module level, any module of
/// the file): their name, whether plainly `pub`, whether a type or trait.
fn items(text: &str) -> Vec<Item> {
    let mut found = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        // Items at module level; one level in, only the items an inline
        // module declares and an `impl` or trait body cannot (its methods
        // and associated types are not items of the module).
        let indent = line.len() - trimmed.len();
        let nested_item = ["struct ", "enum ", "trait ", "union "]
            .iter()
            .any(|keyword| trimmed.trim_start_matches("pub ").trim_start_matches("pub(crate) ").starts_with(keyword));
        if indent > 4 || (indent == 4 && !nested_item) {
            continue;
        }
        let (public, rest) = if let Some(rest) = trimmed.strip_prefix("pub ") {
            (true, rest)
        } else if trimmed.starts_with("pub(") {
            (false, trimmed.split_once(") ").map_or("", |(_, rest)| rest))
        } else {
            (false, trimmed)
        };
        let mut words = rest.split_whitespace().peekable();
        let mut keyword = words.next().unwrap_or("");
        // `const fn`, `async fn`, `unsafe extern "C" fn`: the qualifiers
        // before the keyword (a `const` item is `const NAME`).
        while matches!(keyword, "async" | "unsafe" | "extern" | "const")
            && words
                .peek()
                .is_some_and(|next| matches!(*next, "fn" | "async" | "unsafe" | "extern") || next.starts_with('"'))
        {
            keyword = words.next().unwrap_or("");
            if keyword.starts_with('"') {
                keyword = words.next().unwrap_or("");
            }
        }
        let is_type = matches!(keyword, "struct" | "enum" | "trait" | "type" | "union");
        let is_item = is_type || matches!(keyword, "fn" | "static" | "mod" | "const");
        let name: String =
            words.next().unwrap_or("").chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if is_item && !name.is_empty() {
            found.push(Item { name, public, is_type });
        }
    }
    found
}

/// The names of the `pub fn`s declared inside `impl` blocks of `text`.
fn public_methods(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| line.starts_with("    "))
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("pub ")?;
            let rest = rest.trim_start_matches("const ").trim_start_matches("async ").trim_start_matches("unsafe ");
            let name = rest.strip_prefix("fn ")?;
            Some(name.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
        })
        .collect()
}

fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|word| !word.is_empty())
}

fn files_under(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == extension) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
