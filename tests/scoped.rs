//! `#[scoped(expr, ..)]` (ContextDecorator): fresh managers per call, exits
//! after the body with its outcome, on sync and async functions.

mod common;

use common::Journal;
use managed::{scoped, Error};

#[scoped(j.probe("a"), j.probe("b"))]
fn add(j: &Journal, x: u32, y: &str) -> Result<u32, Error> {
    j.push("body");
    if x == 0 {
        return Ok(0); // leaves the scope: the exits still run
    }
    Ok(x + y.parse::<u32>()?)
}

#[test]
fn each_call_enters_fresh_managers_and_exits_them_with_the_outcome() {
    let j = Journal::new();
    assert_eq!(add(&j, 1, "2").expect("ok"), 3);
    assert_eq!(add(&j, 0, "").expect("ok"), 0);
    assert!(add(&j, 1, "x").is_err());
    let lines = j.lines();
    let exits: Vec<_> = lines.iter().filter(|l| l.starts_with("exit ")).cloned().collect();
    assert_eq!(exits.len(), 6, "{lines:?}");
    assert!(exits[0].starts_with("exit b ok") && exits[1].starts_with("exit a ok"), "{exits:?}");
    assert!(exits[4].starts_with("exit b err") && exits[5].starts_with("exit a err"), "{exits:?}");
    assert_eq!(lines.iter().filter(|l| *l == "body").count(), 3);
}

mod async_fns {
    use crate::common::{block_on, Journal, Pending};
    use managed::{scoped, Error};

    #[scoped(j.probe("a"), std::io::BufWriter::new(Vec::<u8>::new()))]
    async fn work(j: Journal, fail: bool) -> Result<u32, Error> {
        Pending(1).await;
        j.push("body");
        if fail {
            return Err(Error::msg("failed"));
        }
        Ok(7)
    }

    #[test]
    fn an_async_fn_awaits_its_managers() {
        let j = Journal::new();
        assert_eq!(block_on(work(j.clone(), false)).expect("ok"), 7);
        assert_eq!(block_on(work(j.clone(), true)).expect_err("fails").to_string(), "failed");
        assert_eq!(
            j.lines(),
            [
                "enter a",
                "entered a",
                "body",
                "exit a ok",
                "exited a",
                "enter a",
                "entered a",
                "body",
                "exit a err(failed)",
                "exited a"
            ]
        );
    }
}
