//! `ExitStack` over many files: open as many as the input needs, hold all
//! of them at once, close them newest first, and get every flush error back
//! instead of losing it in `Drop` (rust-lang/rust#32677).
//!
//! Run with `cargo run --example files`. Works in a fresh directory under
//! the system's temp dir and removes it at the end.

use std::cell::RefCell;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use managed::ExitStack;

/// How many files part 1 writes at once.
const FILES: usize = 8;
/// Lines written to each file.
const LINES: usize = 200;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("managed-files-example-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    let result = split_into_parts(&dir).and_then(|()| surface_flush_errors(&dir));
    fs::remove_dir_all(&dir)?;
    result
}

/// Part 1: many files under one stack, written round-robin, closed in
/// reverse order of opening.
fn split_into_parts(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    println!("== {FILES} files under one ExitStack");
    let order = RefCell::new(Vec::new());
    let stack = ExitStack::new();
    stack.callback(|| order.borrow_mut().push("stack closed".to_owned()));
    let mut parts = Vec::with_capacity(FILES);
    for i in 0..FILES {
        // Registered before the file is entered, so it runs right after the
        // file's own exit (a flush) has finished.
        let order = &order;
        stack.callback(move || order.borrow_mut().push(format!("part-{i}.txt flushed and closed")));
        let path = dir.join(format!("part-{i}.txt"));
        parts.push(stack.enter(BufWriter::new(File::create(&path)?))?);
    }
    // Every file is open at once: `enter` lends each target while the stack
    // keeps growing.
    for line in 0..LINES {
        writeln!(parts[line % FILES], "line {line}")?;
    }
    println!("wrote {LINES} lines across {} open files (stack of {} exits)", parts.len(), stack.len());
    // `close` takes the stack by value: `parts` cannot be used after this
    // line (a compile error, not a runtime one).
    stack.close()?;
    for step in order.borrow().iter() {
        println!("  {step}");
    }
    let total: usize = (0..FILES)
        .map(|i| fs::read_to_string(dir.join(format!("part-{i}.txt"))).map(|s| s.lines().count()))
        .sum::<io::Result<usize>>()?;
    println!("read back {total} lines");
    assert_eq!(total, LINES);
    Ok(())
}

/// A disk that is full: `BufWriter` keeps small writes in its buffer, so the
/// failure only shows when the buffer is flushed.
struct FullDisk(&'static str);

impl Write for FullDisk {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(io::ErrorKind::StorageFull, format!("{}: no space left on device", self.0)))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Part 2: two writers whose flush fails. `Drop` would print nothing and lose
/// the data; the stack returns the first failure with the second attached.
fn surface_flush_errors(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    println!("== flush errors surface at close");
    let stack = ExitStack::new();
    let good = stack.enter(BufWriter::new(File::create(dir.join("good.txt"))?))?;
    let first = stack.enter(BufWriter::new(FullDisk("archive-a")))?;
    let second = stack.enter(BufWriter::new(FullDisk("archive-b")))?;
    writeln!(good, "this one reaches the disk")?;
    writeln!(first, "buffered: no error yet")?; // succeeds: only the buffer is written
    writeln!(second, "buffered: no error yet")?;
    match stack.close() {
        Ok(()) => Err("expected the full disks to fail at close".into()),
        Err(error) => {
            println!("close failed: {error:#}");
            let kind = error.downcast_ref::<io::Error>().map(io::Error::kind);
            assert_eq!(kind, Some(io::ErrorKind::StorageFull));
            assert_eq!(error.suppressed().len(), 1, "the second failure is attached, not lost");
            assert_eq!(fs::read_to_string(dir.join("good.txt"))?, "this one reaches the disk\n");
            println!("good.txt was still flushed: every exit runs after a failure");
            Ok(())
        }
    }
}
