//! What `scope!(async { .. })` and the async `#[managed]` struct (async
//! fields and async hooks) generate compiles cleanly in a strict user crate: rustc's warnings and `unused_qualifications` are errors here, and
//! clippy (all + pedantic, run by CI with `-D warnings`) sees this file too.
#![deny(warnings, unused_qualifications, unused_results, clippy::all, clippy::pedantic)]

mod common;

use common::{block_on, Journal, Probe};
use managed::{defer, managed, scope, with, Error, Outcome};
use std::io::{self, BufWriter, Write};

/// An async field, a sync field, async hooks (one fallible, one not).
#[managed(enter = async Pooled::configure, exit = async Pooled::flush)]
pub struct Pooled {
    #[managed(async)]
    conn: Probe,
    #[managed]
    log: BufWriter<Vec<u8>>,
    statements: u32,
}

impl Pooled {
    async fn configure(&mut self) -> io::Result<()> {
        std::future::ready(()).await;
        self.log.write_all(b"SET search_path")?;
        self.statements += 1;
        Ok(())
    }

    async fn flush(&mut self, outcome: &Outcome<'_>) {
        std::future::ready(()).await;
        if outcome.is_ok() {
            self.statements += 1;
        }
    }
}

/// No `#[managed]` field: hooks only, one sync, one async.
#[managed(enter = Bare::start, exit = async Bare::stop)]
pub struct Bare {
    started: bool,
}

impl Bare {
    fn start(&mut self) {
        self.started = true;
    }

    async fn stop(&mut self, _outcome: &Outcome<'_>) -> Result<(), Error> {
        std::future::ready(()).await;
        self.started = false;
        Ok(())
    }
}

async fn pooled(j: &Journal) -> Result<u32, Error> {
    scope!(async {
        let p = with!(Pooled { conn: j.probe("conn").into(), log: BufWriter::new(Vec::new()).into(), statements: 0 })?;
        let b = with!(Bare { started: false })?;
        Ok::<_, Error>(p.statements + u32::from(b.started))
    })
    .await
}

async fn write_report(j: &Journal, fail: bool) -> Result<usize, Error> {
    let calls = std::cell::Cell::new(0);
    let n = scope!(async {
        let probe = with!(j.probe("a"))?;
        let out = with!(BufWriter::new(Vec::new()))?;
        defer!(err => eprintln!("failed"));
        defer!(ok => calls.set(calls.get() + 1));
        defer!(panic => eprintln!("panicked"));
        defer!(|outcome| assert!(outcome.is_ok() || fail));
        defer!(async { calls.set(calls.get() + 1) });
        defer!(err => async { eprintln!("failed, awaited") });
        out.write_all(b"abc")?;
        probe.journal.push("body");
        if fail {
            return Err(Error::msg("asked to fail"));
        }
        Ok::<_, Error>(out.buffer().len())
    })
    .await?;
    Ok(n + calls.get())
}

#[test]
fn strict_lints_accept_the_async_expansion() {
    let j = Journal::new();
    assert_eq!(block_on(write_report(&j, false)).ok(), Some(5));
    assert!(block_on(write_report(&j, true)).is_err());
    assert_eq!(j.lines().iter().filter(|l| *l == "body").count(), 2);
    assert_eq!(block_on(pooled(&j)).ok(), Some(2));
}
