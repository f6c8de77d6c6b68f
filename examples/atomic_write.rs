//! An atomic file write: `cargo run --example atomic_write --features tempfile`.
//!
//! What it proves, reading the file back after each step:
//! 1. a block that succeeds replaces the file in one rename;
//! 2. a block that fails half-way (`?`), or panics, leaves the old content
//!    and no temporary file;
//! 3. a rename that cannot happen (the target is a directory) is the
//!    scope's error, not a silent loss.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use managed::tempfile::AtomicWrite;
use managed::{scope, with, Error};

fn files_in(dir: &std::path::Path) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

fn main() -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("settings.toml");
    std::fs::write(&path, "threads = 4\n")?;

    println!("1. a block that succeeds");
    scope! {
        let out = with!(AtomicWrite::new(&path))?;
        writeln!(out, "threads = 8")?;
        writeln!(out, "cache = true")?;
        Ok::<_, Error>(())
    }?;
    let now = std::fs::read_to_string(&path)?;
    println!("   the file now reads {now:?}; files: {:?}", files_in(dir.path())?);
    assert_eq!(now, "threads = 8\ncache = true\n");

    println!("\n2. a block that fails half-way, then one that panics");
    let failed = scope! {
        let out = with!(AtomicWrite::new(&path))?;
        writeln!(out, "threads = ")?;
        let threads: u32 = "many".parse()?; // fails: the exit removes the half-written file
        writeln!(out, "{threads}")?;
        Ok::<_, Error>(())
    };
    println!("   failed with: {}", failed.as_ref().map_or_else(ToString::to_string, |()| "nothing".into()));
    std::panic::set_hook(Box::new(|_| {})); // the panic below is intended
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        let _: Result<(), Error> = scope! {
            let out = with!(AtomicWrite::new(&path))?;
            writeln!(out, "garbage")?;
            panic!("bug while writing");
        };
    }));
    drop(std::panic::take_hook());
    let now = std::fs::read_to_string(&path)?;
    println!("   panicked: {}; the file still reads {now:?}; files: {:?}", panicked.is_err(), files_in(dir.path())?);
    assert!(failed.is_err() && panicked.is_err());
    assert_eq!(now, "threads = 8\ncache = true\n");
    assert_eq!(files_in(dir.path())?, ["settings.toml"]);

    println!("\n3. a rename that cannot happen is the scope's error");
    let occupied = dir.path().join("occupied");
    std::fs::create_dir(&occupied)?;
    let result = scope! {
        let out = with!(AtomicWrite::new(&occupied))?;
        writeln!(out, "data")?;
        Ok::<_, Error>(())
    };
    match &result {
        Err(e) => println!("   scope returned: {e}"),
        Ok(()) => println!("   scope returned Ok (unexpected)"),
    }
    assert!(result.is_err());
    assert_eq!(files_in(dir.path())?, ["occupied", "settings.toml"]);

    println!("\nall checks passed");
    Ok(())
}
