use managed::{managed, yield_};
use std::time::Instant;

#[managed]
pub fn timed(label: &str) -> Result<Vec<u64>, std::fmt::Error> {
    let start = Instant::now();
    let samples = Vec::new();
    let outcome = yield_!(samples);
    println!("{label}: {} samples in {:?}, ok: {}", samples.len(), start.elapsed(), outcome.is_ok());
}
