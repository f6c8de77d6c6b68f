//! A `timed_block` written as a `yield_!`-based `#[managed]` fn (Python's
//! `@contextmanager`): `cargo run --example timed`.
//!
//! What it proves:
//! 1. the code before `yield_!` runs at enter and the code after it at exit,
//!    with the arguments and locals carried across;
//! 2. the exit part sees how the block ended (ok, error, panic);
//! 3. the block can use what is lent (`&mut Timings`), and the exit reads it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use managed::{managed, scope, with, yield_, Error};

/// Laps recorded by the block, reported by the exit.
#[derive(Default)]
struct Timings {
    laps: Vec<(&'static str, Duration)>,
}

impl Timings {
    fn lap(&mut self, name: &'static str, since: Instant) {
        self.laps.push((name, since.elapsed()));
    }
}

/// Times the block and prints a line when it ends, however it ends.
#[managed]
fn timed_block(name: &str, report: &mut Vec<String>) -> Timings {
    let start = Instant::now();
    println!("  [{name}] start");
    let timings = Timings::default();
    let outcome = yield_!(timings); // the block gets `&mut Timings`; the exit part gets it back
    let how = if outcome.is_ok() {
        "ok"
    } else if outcome.is_panic() {
        "panicked"
    } else {
        "failed"
    };
    let laps: Vec<String> = timings.laps.iter().map(|(lap, d)| format!("{lap} {d:?}")).collect();
    let line = format!("{name}: {how} after {:?}, laps: [{}]", start.elapsed(), laps.join(", "));
    println!("  [{name}] {how}");
    report.push(line);
}

fn work(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

fn main() -> Result<(), Error> {
    let mut report = Vec::new();

    println!("1. a block that succeeds");
    let laps = scope! {
        let t = with!(timed_block("load", &mut report))?;
        let lap = Instant::now();
        work(5);
        t.lap("read", lap);
        Ok::<_, Error>(t.laps.len())
    }?;
    assert_eq!(laps, 1);

    println!("\n2. a block that fails with `?`");
    let failed = scope! {
        let _t = with!(timed_block("parse", &mut report))?;
        let n: u32 = "twelve".parse()?;
        Ok::<_, Error>(n)
    };
    assert!(failed.is_err());

    println!("\n3. a block that panics (the panic resumes after the exit ran)");
    // The panic is intended: print one line instead of the default report.
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload().downcast_ref::<&str>().unwrap_or(&"?");
        println!("  (panic: {message})");
    }));
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        scope! {
            let _t = with!(timed_block("compute", &mut report))?;
            work(1);
            panic!("division by zero");
            #[allow(unreachable_code)]
            Ok::<_, Error>(())
        }
    }));
    assert!(panicked.is_err());
    drop(std::panic::take_hook());

    println!("\nreport, written by the exit parts:");
    for line in &report {
        println!("  {line}");
    }
    assert_eq!(report.len(), 3);
    assert!(report[0].starts_with("load: ok") && report[0].contains("laps: [read "));
    assert!(report[1].starts_with("parse: failed"));
    assert!(report[2].starts_with("compute: panicked"));
    println!("\nall checks passed");
    Ok(())
}
