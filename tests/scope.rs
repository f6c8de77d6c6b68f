//! `scope!` + `with!` + `defer!` (sync): every way a scope can end, the
//! outcome each exit and defer sees, and the primary/suppressed error rule.

mod common;

use common::{panic_message, quiet_panics, reports_of, Journal};
use managed::{defer, scope, with, Error, Manage, Outcome};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn lines(j: &Journal) -> Vec<String> {
    j.lines()
}

#[test]
fn ok_path_exits_in_reverse_order_and_returns_the_value() {
    let j = Journal::new();
    let r = scope! {
        let a = with!(j.probe("a"))?;
        let b = with!(j.probe("b"))?;
        j.push(format!("body {} {}", a.name, b.name));
        Ok::<_, Error>(42)
    };
    assert_eq!(r.ok(), Some(42));
    assert_eq!(lines(&j), ["enter a", "enter b", "body a b", "exit b ok", "exit a ok"]);
}

#[test]
fn question_mark_leaves_the_scope_with_the_exact_error() {
    let j = Journal::new();
    let r: Result<(), Error> = scope! {
        let _a = with!(j.probe("a"))?;
        let n: i32 = "not a number".parse()?;
        j.push(format!("unreachable {n}"));
        Ok(())
    };
    let e = r.expect_err("parse fails");
    assert!(e.downcast_ref::<std::num::ParseIntError>().is_some());
    assert_eq!(lines(&j), ["enter a", "exit a err(invalid digit found in string)"]);
}

#[test]
fn explicit_return_is_seen_as_the_outcome() {
    let j = Journal::new();
    let early = true;
    let r: Result<u8, Error> = scope! {
        let _a = with!(j.probe("a"))?;
        if early {
            return Err(Error::msg("returned early"));
        }
        Ok(1)
    };
    assert_eq!(r.expect_err("returns").to_string(), "returned early");
    assert_eq!(lines(&j), ["enter a", "exit a err(returned early)"]);

    let j = Journal::new();
    let r: Result<u8, Error> = scope! {
        let _a = with!(j.probe("a"))?;
        if early {
            return Ok(7);
        }
        Ok(1)
    };
    assert_eq!(r.ok(), Some(7));
    assert_eq!(lines(&j), ["enter a", "exit a ok"]);
}

macro_rules! bail_hidden {
    ($msg:literal) => {
        return Err(Error::msg($msg))
    };
}

#[test]
fn a_return_hidden_in_another_macro_is_exact() {
    let j = Journal::new();
    let r: Result<(), Error> = scope! {
        let _a = with!(j.probe("a"))?;
        defer!(err => j.push("errdefer ran"));
        bail_hidden!("hidden return");
    };
    assert_eq!(r.expect_err("bails").to_string(), "hidden return");
    assert_eq!(lines(&j), ["enter a", "errdefer ran", "exit a err(hidden return)"]);
}

/// A manager whose error is `anyhow::Error`, for scopes that use anyhow.
struct AnyhowProbe(Journal);
impl Manage for AnyhowProbe {
    type Target = ();
    type Error = anyhow::Error;
    fn enter(&mut self) -> Result<&mut (), anyhow::Error> {
        Ok(Box::leak(Box::new(())))
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), anyhow::Error> {
        let seen = outcome.error::<anyhow::Error>().map(ToString::to_string);
        self.0.push(format!("exit {seen:?}"));
        Ok(())
    }
}

#[test]
fn anyhow_bail_is_an_error_outcome() {
    let j = Journal::new();
    let r: anyhow::Result<()> = scope! {
        with!(AnyhowProbe(j.clone()))?;
        anyhow::bail!("bailed with {}", 3);
    };
    assert_eq!(r.expect_err("bails").to_string(), "bailed with 3");
    assert_eq!(lines(&j), ["exit Some(\"bailed with 3\")"]);
}

#[test]
fn panic_runs_every_exit_then_resumes_with_the_original_payload() {
    #[derive(Debug, PartialEq)]
    struct Payload(u32);
    quiet_panics();
    let j = Journal::new();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let _: Result<(), Error> = scope! {
            let _a = with!(j.probe("a"))?;
            defer!(panic => j.push("panic defer"));
            defer!(ok => j.push("ok defer must not run"));
            let _b = with!(j.probe("b"))?;
            std::panic::panic_any(Payload(7));
        };
    }));
    let payload = caught.expect_err("panic resumes");
    assert_eq!(payload.downcast_ref::<Payload>(), Some(&Payload(7)), "payload unchanged");
    assert_eq!(lines(&j), ["enter a", "enter b", "exit b panic(?)", "panic defer", "exit a panic(?)"]);
}

#[test]
fn panic_message_is_visible_to_exits() {
    quiet_panics();
    let j = Journal::new();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let _: Result<(), Error> = scope! {
            let _a = with!(j.probe("a"))?;
            panic!("test: boom {}", 1);
        };
    }));
    assert_eq!(panic_message(&*caught.expect_err("panics")), "test: boom 1");
    assert_eq!(lines(&j), ["enter a", "exit a panic(test: boom 1)"]);
}

#[test]
fn first_failure_is_primary_and_later_exit_errors_are_suppressed_in_exit_order() {
    let j = Journal::new();
    let r: Result<(), Error> = scope! {
        let _a = with!(j.probe("a").failing_exit())?;
        let _b = with!(j.probe("b").failing_exit())?;
        let _c = with!(j.probe("c").failing_exit())?;
        Err(Error::msg("body"))
    };
    let e = r.expect_err("fails");
    assert_eq!(e.to_string(), "body");
    let suppressed: Vec<_> = e.suppressed().iter().map(ToString::to_string).collect();
    assert_eq!(suppressed, ["exit c failed", "exit b failed", "exit a failed"]);
    assert_eq!(
        format!("{e:#}"),
        "body\n  suppressed: exit c failed\n  suppressed: exit b failed\n  suppressed: exit a failed"
    );
}

#[test]
fn when_the_body_succeeds_the_first_failing_exit_is_primary_and_later_exits_see_it() {
    let j = Journal::new();
    let r: Result<u8, Error> = scope! {
        let _a = with!(j.probe("a").failing_exit())?;
        let _b = with!(j.probe("b"))?;
        let _c = with!(j.probe("c").failing_exit())?;
        Ok(1)
    };
    let e = r.expect_err("an exit fails");
    assert_eq!(e.to_string(), "exit c failed");
    assert_eq!(e.suppressed().len(), 1);
    assert_eq!(e.suppressed()[0].to_string(), "exit a failed");
    assert_eq!(
        lines(&j),
        ["enter a", "enter b", "enter c", "exit c ok", "exit b err(exit c failed)", "exit a err(exit c failed)"]
    );
}

#[test]
fn a_failed_enter_is_not_exited_and_earlier_managers_see_its_error() {
    let j = Journal::new();
    let r: Result<(), Error> = scope! {
        let _a = with!(j.probe("a"))?;
        let _b = with!(j.probe("b").failing_enter())?;
        j.push("body must not run");
        Ok(())
    };
    assert_eq!(r.expect_err("enter fails").to_string(), "enter b failed");
    assert_eq!(lines(&j), ["enter a", "enter b", "exit a err(enter b failed)"]);
}

#[test]
fn a_panicking_enter_is_not_exited_and_earlier_managers_see_the_panic() {
    quiet_panics();
    let j = Journal::new();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let _: Result<(), Error> = scope! {
            let _a = with!(j.probe("a"))?;
            let _b = with!(j.probe("b").panicking_enter())?;
            Ok(())
        };
    }));
    assert_eq!(panic_message(&*caught.expect_err("panics")), "enter b panicked");
    assert_eq!(lines(&j), ["enter a", "enter b", "exit a panic(enter b panicked)"]);
}

#[test]
fn with_without_question_mark_lets_the_rest_run_and_exits_only_entered_managers() {
    let j = Journal::new();
    let r: Result<bool, Error> = scope! {
        let a = with!(j.probe("a").failing_enter());
        let _b = with!(j.probe("b"))?;
        Ok(a.is_err())
    };
    assert_eq!(r.ok(), Some(true));
    assert_eq!(lines(&j), ["enter a", "enter b", "exit b ok"]);
}

#[test]
fn with_as_a_statement_enters_and_exits() {
    let j = Journal::new();
    let r: Result<(), Error> = scope! {
        with!(j.probe("a"))?;
        let _ = with!(j.probe("b"));
        j.push("body");
        Ok(())
    };
    assert!(r.is_ok());
    assert_eq!(lines(&j), ["enter a", "enter b", "body", "exit b ok", "exit a ok"]);
}

#[test]
fn with_result_can_be_mapped_before_the_question_mark() {
    #[derive(Debug)]
    enum AppError {
        Db(Error),
    }
    impl From<Error> for AppError {
        fn from(e: Error) -> Self {
            AppError::Db(e)
        }
    }
    let j = Journal::new();
    let r: Result<(), AppError> = scope! {
        let _a = with!(j.probe("a").failing_enter()).map_err(AppError::Db)?;
        Ok(())
    };
    assert!(matches!(r, Err(AppError::Db(e)) if e.to_string() == "enter a failed"));
}

#[test]
fn exit_panic_while_unwinding_is_reported_and_the_original_panic_resumes() {
    quiet_panics();
    let j = Journal::new();
    let (caught, reports) = reports_of(|| {
        catch_unwind(AssertUnwindSafe(|| {
            let _: Result<(), Error> = scope! {
                let _a = with!(j.probe("a").failing_exit())?;
                let _b = with!(j.probe("b").panicking_exit())?;
                let _c = with!(j.probe("c"))?;
                panic!("test: original");
            };
        }))
    });
    assert_eq!(panic_message(&*caught.expect_err("panics")), "test: original");
    assert_eq!(
        lines(&j),
        [
            "enter a",
            "enter b",
            "enter c",
            "exit c panic(test: original)",
            "exit b panic(test: original)",
            "exit a panic(test: original)"
        ]
    );
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports[0].starts_with("FailedWhileUnwinding") && reports[0].contains("exit b panicked"), "{reports:?}");
    assert!(reports[1].starts_with("FailedWhileUnwinding") && reports[1].contains("exit a failed"), "{reports:?}");
}

#[test]
fn exit_panic_on_an_error_path_becomes_the_outcome_and_the_error_is_reported() {
    quiet_panics();
    let j = Journal::new();
    let (caught, reports) = reports_of(|| {
        catch_unwind(AssertUnwindSafe(|| {
            let _: Result<(), Error> = scope! {
                let _a = with!(j.probe("a"))?;
                let _b = with!(j.probe("b").panicking_exit())?;
                Err(Error::msg("body failed"))
            };
        }))
    });
    assert_eq!(panic_message(&*caught.expect_err("exit panic resumes")), "exit b panicked");
    assert_eq!(lines(&j), ["enter a", "enter b", "exit b err(body failed)", "exit a panic(exit b panicked)"]);
    assert_eq!(reports.len(), 1);
    assert!(reports[0].starts_with("ReplacedByPanic") && reports[0].contains("body failed"), "{reports:?}");
}

#[test]
fn exit_errors_go_to_the_hook_when_the_error_type_cannot_hold_them() {
    struct Plain(Journal, bool);
    impl Manage for Plain {
        type Target = ();
        type Error = String;
        fn enter(&mut self) -> Result<&mut (), String> {
            Ok(Box::leak(Box::new(())))
        }
        fn exit(self, o: &Outcome<'_>) -> Result<(), String> {
            self.0.push(format!("exit sees {:?}", o.error::<String>()));
            if self.1 {
                Err("exit failed".into())
            } else {
                Ok(())
            }
        }
    }
    let j = Journal::new();
    let (r, reports) = reports_of(|| -> Result<(), String> {
        scope! {
            with!(Plain(j.clone(), true))?;
            with!(Plain(j.clone(), false))?;
            Err("body failed".to_string())
        }
    });
    assert_eq!(r, Err("body failed".to_string()));
    assert_eq!(lines(&j), ["exit sees Some(\"body failed\")", "exit sees Some(\"body failed\")"]);
    assert_eq!(reports, ["SuppressedNotAttached: \"exit failed\""]);
}

#[test]
fn defers_and_exits_run_in_one_lifo_order() {
    let j = Journal::new();
    let r: Result<(), Error> = scope! {
        defer! { j.push("defer 1") }
        let _a = with!(j.probe("a"))?;
        defer!(j.push("defer 2"));
        let _b = with!(j.probe("b"))?;
        defer!(|o| j.push(format!("defer 3 sees {}", common::describe(o))));
        Ok(())
    };
    assert!(r.is_ok());
    assert_eq!(lines(&j), ["enter a", "enter b", "defer 3 sees ok", "exit b ok", "defer 2", "exit a ok", "defer 1"]);
}

#[test]
fn defer_filters_run_only_for_their_outcomes() {
    fn run(fail: bool) -> Vec<String> {
        let j = Journal::new();
        let _ = scope! {
            defer!(ok => j.push("ok"));
            defer!(err => j.push("err"));
            defer!(panic => j.push("panic"));
            defer! { j.push("always") }
            if fail {
                return Err(Error::msg("x"));
            }
            Ok::<_, Error>(())
        };
        j.lines()
    }
    assert_eq!(run(false), ["always", "ok"]);
    assert_eq!(run(true), ["always", "err"]);
}

#[test]
fn err_defer_runs_on_panic_and_panic_defer_sees_the_payload() {
    quiet_panics();
    let j = Journal::new();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let _ = scope! {
            defer!(ok => j.push("ok"));
            defer!(err => j.push("err"));
            defer!(|o| j.push(format!("closure {}", common::describe(o))));
            panic!("test: p");
            #[allow(unreachable_code)]
            Ok::<_, Error>(())
        };
    }));
    assert!(caught.is_err());
    assert_eq!(lines(&j), ["closure panic(test: p)", "err"]);
}

#[test]
fn a_defer_may_mutably_borrow_what_the_body_borrows() {
    let mut log: Vec<&str> = Vec::new();
    let r: Result<usize, Error> = scope! {
        defer!(log.push("cleanup"));
        log.push("work");
        Ok(log.len())
    };
    assert_eq!(r.ok(), Some(1));
    assert_eq!(log, ["work", "cleanup"]);
}

#[test]
fn a_panicking_defer_on_the_ok_path_becomes_the_outcome_of_the_rest() {
    quiet_panics();
    let j = Journal::new();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let _: Result<(), Error> = scope! {
            let _a = with!(j.probe("a"))?;
            defer! { panic!("defer panicked") }
            Ok(())
        };
    }));
    assert_eq!(panic_message(&*caught.expect_err("resumes")), "defer panicked");
    assert_eq!(lines(&j), ["enter a", "exit a panic(defer panicked)"]);
}

#[test]
fn the_block_can_use_the_target_mutably_and_earlier_locals() {
    use std::io::Write;
    let mut sink = Vec::new();
    let r: Result<usize, Error> = scope! {
        let prefix = "n=";
        let out = with!(std::io::BufWriter::new(&mut sink))?;
        write!(out, "{prefix}{}", 5)?;
        Ok(prefix.len())
    };
    assert_eq!(r.ok(), Some(2));
    assert_eq!(sink, b"n=5");
}

/// A sink whose flush fails, as a full disk or a closed pipe does.
struct BrokenPipe;
impl std::io::Write for BrokenPipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Err(std::io::ErrorKind::BrokenPipe.into())
    }
}

#[test]
fn a_bufwriter_flush_error_is_returned_not_swallowed() {
    use std::io::Write;
    let r: Result<(), Error> = scope! {
        let out = with!(std::io::BufWriter::new(BrokenPipe))?;
        out.write_all(b"buffered")?;
        Ok(())
    };
    let e = r.expect_err("flush fails at exit");
    assert_eq!(e.downcast_ref::<std::io::Error>().map(std::io::Error::kind), Some(std::io::ErrorKind::BrokenPipe));
}

#[test]
fn outcome_error_finds_the_io_error_inside_managed_error() {
    struct Check(Journal);
    impl Manage for Check {
        type Target = ();
        type Error = std::convert::Infallible;
        fn enter(&mut self) -> Result<&mut (), std::convert::Infallible> {
            Ok(Box::leak(Box::new(())))
        }
        fn exit(self, o: &Outcome<'_>) -> Result<(), std::convert::Infallible> {
            let kind = o.error::<std::io::Error>().map(std::io::Error::kind);
            self.0.push(format!("{kind:?}"));
            Ok(())
        }
    }
    let j = Journal::new();
    let r: Result<(), Error> = scope! {
        with!(Check(j.clone()))?;
        Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        Ok(())
    };
    assert!(r.is_err());
    assert_eq!(lines(&j), ["Some(BrokenPipe)"]);
}

#[test]
fn nested_scopes_and_a_scope_per_loop_iteration() {
    let j = Journal::new();
    let r: Result<u32, Error> = scope! {
        let _outer = with!(j.probe("outer"))?;
        let mut total = 0;
        for i in 0..2 {
            total += scope! {
                let _inner = with!(j.probe(if i == 0 { "inner0" } else { "inner1" }))?;
                Ok::<_, Error>(i + 1)
            }?;
        }
        Ok(total)
    };
    assert_eq!(r.ok(), Some(3));
    assert_eq!(
        lines(&j),
        ["enter outer", "enter inner0", "exit inner0 ok", "enter inner1", "exit inner1 ok", "exit outer ok"]
    );
}

#[test]
fn loops_with_break_and_labels_inside_the_scope_work() {
    let r: Result<u32, Error> = scope! {
        let mut n = 0;
        let mut odd = 0;
        'outer: for i in 0.. {
            let mut k = 0;
            loop {
                k += 1;
                n += i;
                if n > 10 {
                    break 'outer;
                }
                if k == 1 {
                    break;
                }
            }
            if i % 2 == 0 {
                continue;
            }
            odd += 1;
        }
        assert_eq!(odd, 2);
        let v = 'blk: {
            if n > 0 {
                break 'blk n * 2;
            }
            0
        };
        Ok(v)
    };
    assert_eq!(r.ok(), Some(30));
}

#[test]
fn scopes_work_in_generic_functions() {
    fn run<M>(m: M) -> Result<(), Error>
    where
        M: Manage,
        Error: From<M::Error>,
    {
        scope! {
            let _t = with!(m)?;
            Ok(())
        }
    }
    let j = Journal::new();
    run(j.probe("g")).expect("runs");
    assert_eq!(lines(&j), ["enter g", "exit g ok"]);
}

#[test]
fn statements_before_the_first_with_may_fail_without_exits() {
    let j = Journal::new();
    let r: Result<(), Error> = scope! {
        let n: u8 = "300".parse()?;
        let _a = with!(j.probe("a"))?;
        j.push(format!("{n}"));
        Ok(())
    };
    assert!(r.is_err());
    assert!(lines(&j).is_empty());
}

#[test]
fn the_manager_expression_may_use_question_mark() {
    let j = Journal::new();
    let make = |ok: bool| if ok { Ok(j.probe("made")) } else { Err(Error::msg("cannot make")) };
    let r: Result<(), Error> = scope! {
        let _a = with!(make(true)?)?;
        let _b = with!(make(false)?)?;
        Ok(())
    };
    assert_eq!(r.expect_err("second make fails").to_string(), "cannot make");
    assert_eq!(lines(&j), ["enter made", "exit made err(cannot make)"]);
}

#[test]
fn a_scope_without_managers_is_a_try_block() {
    let r: Result<i32, std::num::ParseIntError> = scope! {
        let a: i32 = "4".parse()?;
        Ok(a * 2)
    };
    assert_eq!(r, Ok(8));
}

/// `?` and `return` in the first manager's expression leave the scope, not
/// the enclosing function (the expansion keeps the outer closure for them).
#[test]
fn question_mark_and_return_in_the_first_manager_expression_leave_the_scope_not_the_function() {
    // The `Result` is the way out a `?` or `return` escaping the scope
    // would take: the assertions below see it if one does.
    #[allow(clippy::unnecessary_wraps)]
    fn with_question_mark(j: &Journal, build_fails: bool) -> Result<&'static str, Error> {
        let scoped: Result<(), Error> = scope! {
            let _a = with!(if build_fails { Err(Error::msg("build failed")) } else { Ok(j.probe("a")) }?)?;
            Ok(())
        };
        Ok(if scoped.is_err() { "scope failed" } else { "scope ok" })
    }
    // The `Result` is the way out a `?` or `return` escaping the scope
    // would take: the assertions below see it if one does.
    #[allow(clippy::unnecessary_wraps)]
    fn with_return(j: &Journal, build_fails: bool) -> Result<&'static str, Error> {
        let scoped: Result<(), Error> = scope! {
            let _a = with!(if build_fails { return Err(Error::msg("build failed")) } else { j.probe("a") })?;
            Ok(())
        };
        Ok(if scoped.is_err() { "scope failed" } else { "scope ok" })
    }
    let j = Journal::new();
    assert_eq!(with_question_mark(&j, true).ok(), Some("scope failed"));
    assert_eq!(with_return(&j, true).ok(), Some("scope failed"));
    assert!(lines(&j).is_empty(), "nothing entered: {:?}", lines(&j));
    assert_eq!(with_question_mark(&j, false).ok(), Some("scope ok"));
    assert_eq!(with_return(&j, false).ok(), Some("scope ok"));
    assert_eq!(lines(&j), ["enter a", "exit a ok", "enter a", "exit a ok"]);
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
