//! The concurrent load of the database integration tests
//! (`tests/postgres.rs`, `tests/sqlx.rs`): what each task does (`Fate`),
//! drawn from a seeded generator, and the check of the rows left behind.
#![allow(dead_code, reason = "each test binary uses a different part")]

use managed::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A tiny deterministic generator (xorshift), so that a failure can be
/// replayed with the seed it prints.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| u64::from(d.subsec_nanos()) ^ d.as_secs())
            | 1;
        println!("seed {seed}");
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// How one transaction of the load ends.
#[derive(Clone, Copy, Debug)]
pub enum Fate {
    Commit,
    FailThroughQuestionMark,
    ReturnErr,
    Panic,
    /// Cancelled by a timeout: mostly while waiting for a connection.
    CancelAfterMicros(u64),
    /// Cancelled after this many polls of the scope: at BEGIN, mid-INSERT,
    /// during COMMIT (each poll after the first is a wake-up by the I/O the
    /// scope waits for).
    CancelAfterPolls(usize),
}

impl Fate {
    pub fn draw(rng: &mut Rng) -> Fate {
        match rng.next() % 100 {
            0..=54 => Fate::Commit,
            55..=62 => Fate::FailThroughQuestionMark,
            63..=66 => Fate::ReturnErr,
            67..=71 => Fate::Panic,
            72..=81 => Fate::CancelAfterMicros(rng.next() % 4000),
            _ => Fate::CancelAfterPolls(1 + usize::try_from(rng.next() % 12).unwrap_or(0)),
        }
    }
}

/// One task of the load: transaction `i` inserts rows `2i` and `2i + 1`;
/// the flag is set once its body finished (it may be cancelled after that,
/// while its COMMIT is in flight).
pub type Task = (i64, Fate, Arc<AtomicBool>, tokio::task::JoinHandle<Option<Result<(), Error>>>);

/// What the load left behind, once every task was joined.
pub struct Tally {
    /// The rows of the transactions that returned `Ok`, in order.
    pub expected: Vec<i64>,
    /// The transactions cancelled with their COMMIT in flight: both rows or none.
    pub either: Vec<i64>,
}

/// Joins every task, checks that each ended as its fate says, and that the
/// mix holds every kind of ending.
pub async fn join(tasks: Vec<Task>) -> Tally {
    let (mut committed, mut failed, mut panicked, mut cancelled) = (0, 0, 0, 0);
    let mut tally = Tally { expected: Vec::new(), either: Vec::new() };
    for (i, fate, body_done, task) in tasks {
        match task.await {
            Ok(Some(Ok(()))) => {
                committed += 1;
                tally.expected.extend([2 * i, 2 * i + 1]);
            }
            Ok(Some(Err(e))) => {
                assert!(
                    matches!(fate, Fate::FailThroughQuestionMark | Fate::ReturnErr),
                    "task {i} ({fate:?}) failed: {e:#}"
                );
                failed += 1;
            }
            Ok(None) => {
                cancelled += 1;
                if body_done.load(Ordering::SeqCst) {
                    tally.either.push(i);
                }
            }
            Err(join) => {
                assert!(join.is_panic() && matches!(fate, Fate::Panic), "task {i} ({fate:?}): {join}");
                panicked += 1;
            }
        }
    }
    println!(
        "{committed} committed, {failed} Err, {panicked} panicked, {cancelled} cancelled ({} with COMMIT in flight)",
        tally.either.len()
    );
    assert!(committed > 0 && failed > 0 && panicked > 0 && cancelled > 0);
    tally
}

impl Tally {
    /// The rows found are exactly those of the transactions that returned
    /// `Ok`, plus, all or nothing, those of one cancelled with its COMMIT in
    /// flight.
    pub fn check_rows(&self, mut found: Vec<i64>) {
        for &i in &self.either {
            let rows: Vec<i64> = found.iter().copied().filter(|&id| id / 2 == i).collect();
            assert!(rows.is_empty() || rows == [2 * i, 2 * i + 1], "task {i}: {rows:?}");
            found.retain(|&id| id / 2 != i);
        }
        assert_eq!(found, self.expected, "rows of exactly the transactions that returned Ok");
    }
}
