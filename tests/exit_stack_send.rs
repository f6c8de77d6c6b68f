//! `SendAsyncExitStack` where it differs from `AsyncExitStack`: it is `Send`
//! and `Sync`, so a task holding it across `.await`s can be spawned on a
//! multi-threaded tokio runtime, generic code bounded on `SendAsyncManage`
//! can use it, and several tasks may register into one stack. The `CPython`
//! cases and the cancellation cases run over it in `tests/exit_stack_async.rs`.

mod common;

use common::{describe, Journal};
use managed::{AsyncExitStack, Error, Outcome, SendAsyncExitStack, SendAsyncManage};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

fn require_send_sync<T: Send + Sync>() {}

fn require_send<F: Future + Send>(future: F) -> F {
    future
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().expect("runtime")
}

/// A pooled connection: a `Send` async manager that writes to its journal.
struct PoolConn {
    journal: Journal,
    queries: Vec<String>,
}

impl SendAsyncManage for PoolConn {
    type Target = Vec<String>;
    type Error = Error;

    async fn enter(&mut self) -> Result<&mut Vec<String>, Error> {
        tokio::task::yield_now().await;
        self.journal.push("checked out");
        Ok(&mut self.queries)
    }

    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
        let seen = describe(outcome);
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.journal.push(format!("returned after {} ({seen})", self.queries.join(", ")));
        Ok(())
    }
}

fn pool_conn(journal: &Journal) -> PoolConn {
    PoolConn { journal: journal.clone(), queries: Vec::new() }
}

async fn do_io(conn: &mut Vec<String>) {
    conn.push("SELECT 1".into());
    tokio::time::sleep(Duration::from_millis(1)).await;
    conn.push("SELECT 2".into());
}

#[test]
fn the_stack_and_a_future_holding_it_across_awaits_are_send_and_sync() {
    require_send_sync::<SendAsyncExitStack<'static>>();
    require_send_sync::<managed::exit_stack::Entered<managed::SendAsyncExitStack<'static>>>();
    let j = Journal::new();
    // `&stack` is held across every await below: the future is `Send`
    // because the stack is `Sync`.
    let task = require_send(async {
        let stack = SendAsyncExitStack::new();
        let conn = stack.enter_async(pool_conn(&j)).await?;
        stack.callback(|| ());
        do_io(conn).await;
        stack.aclose().await
    });
    runtime().block_on(task).expect("closed");
    assert_eq!(j.lines(), ["checked out", "returned after SELECT 1, SELECT 2 (ok)"]);
}

/// The snippet the stack exists for: a spawned task on a multi-threaded
/// runtime holds the stack and a lent target across awaits.
#[test]
fn a_spawned_task_holds_the_stack_across_awaits() {
    let j = Journal::new();
    let seen_failure = Arc::new(Mutex::new(None));
    let rt = runtime();
    let result = rt.block_on({
        let (j, seen_failure) = (j.clone(), seen_failure.clone());
        async move {
            tokio::spawn(async move {
                let stack = SendAsyncExitStack::new();
                let conn = stack.enter_async(pool_conn(&j)).await?;
                let w = stack.enter(std::io::BufWriter::new(Vec::new()))?; // sync + Send
                stack.push_async(move |o: &Outcome<'_>| {
                    let failed = o.is_failure();
                    async move {
                        tokio::task::yield_now().await; // a Send future
                        *seen_failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(failed);
                        Ok(false)
                    }
                });
                let jc = j.clone();
                stack.callback(move || jc.push("callback"));
                do_io(conn).await;
                std::io::Write::write_all(w, b"log")?;
                stack.aclose().await
            })
            .await
        }
    });
    result.expect("the task did not panic").expect("closed");
    assert_eq!(*seen_failure.lock().unwrap_or_else(PoisonError::into_inner), Some(false));
    assert_eq!(j.lines(), ["checked out", "callback", "returned after SELECT 1, SELECT 2 (ok)"]);
}

/// DESIGN section 3: generic code bounds on `SendAsyncManage`, and the stack
/// bound on it is spawnable.
fn spawn_over<M>(manager: M, journal: Journal) -> tokio::task::JoinHandle<Result<(), Error>>
where
    M: SendAsyncManage + 'static,
    M::Error: Into<Error>,
{
    tokio::spawn(async move {
        let stack = SendAsyncExitStack::new();
        stack.enter_async(manager).await.map_err(Into::into)?;
        tokio::task::yield_now().await;
        stack.callback(move || journal.push("generic callback"));
        stack.aclose().await
    })
}

#[test]
fn generic_code_over_send_managers_spawns_a_stack() {
    let j = Journal::new();
    let rt = runtime();
    rt.block_on(async { spawn_over(j.probe("a"), j.clone()).await }).expect("joined").expect("closed");
    assert_eq!(j.lines(), ["enter a", "entered a", "generic callback", "exit a ok", "exited a"]);
}

/// Several tasks register into one shared stack at once; each exit runs
/// exactly once, each task's exits newest first.
#[test]
fn tasks_share_one_stack() {
    const TASKS: usize = 4;
    const EACH: usize = 25;
    let log = Arc::new(Mutex::new(Vec::new()));
    let stack = Arc::new(SendAsyncExitStack::<'static>::new());
    let rt = runtime();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for t in 0..TASKS {
            let (stack, log) = (stack.clone(), log.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..EACH {
                    let log = log.clone();
                    stack.callback(move || log.lock().unwrap_or_else(PoisonError::into_inner).push((t, i)));
                    tokio::task::yield_now().await;
                }
            }));
        }
        for task in tasks {
            task.await.expect("registered");
        }
    });
    let stack = Arc::into_inner(stack).expect("the tasks are done");
    assert_eq!(stack.len(), TASKS * EACH);
    rt.block_on(stack.aclose()).expect("closed");
    let log = log.lock().unwrap_or_else(PoisonError::into_inner);
    assert_eq!(log.len(), TASKS * EACH);
    for t in 0..TASKS {
        let mine: Vec<usize> = log.iter().filter(|(task, _)| *task == t).map(|(_, i)| *i).collect();
        assert_eq!(mine, (0..EACH).rev().collect::<Vec<_>>(), "task {t}: LIFO, each once");
    }
}

/// The body of `run_in_a_spawned_task`: an `async fn` generic over the
/// stack's lifetime, which `run`'s future can be proved `Send` with (an
/// async closure is only `AsyncFnOnce` for one stack lifetime, and rustc
/// checks a spawned future's `Send` for all of them).
async fn parse_in(stack: &SendAsyncExitStack<'_>) -> Result<i32, Error> {
    stack.push_async(|o: &Outcome<'_>| {
        let parse = o.error::<std::num::ParseIntError>().is_some();
        async move {
            tokio::task::yield_now().await;
            Ok(parse)
        }
    });
    tokio::task::yield_now().await;
    Ok("x".parse::<i32>()?)
}

/// `run` in a spawned task: the body's error is suppressed by an async exit.
#[test]
fn run_in_a_spawned_task() {
    let rt = runtime();
    let parsed = rt.block_on(rt.spawn(SendAsyncExitStack::new().run(parse_in))).expect("joined");
    assert_eq!(parsed.expect("suppressed"), None);
}

/// Nesting: a `SendAsyncExitStack` is a `SendAsyncManage` (so also an
/// `AsyncManage`): entered into either stack, it is closed with it, with the
/// outer stack's outcome.
#[test]
fn nested_stacks_close_with_the_outer_one() {
    let j = Journal::new();
    let rt = runtime();
    rt.block_on(async {
        let outer = SendAsyncExitStack::new();
        let inner = outer.enter_async(SendAsyncExitStack::new()).await.expect("enter");
        inner.enter_async(j.probe("in send")).await.expect("enter");
        let local = AsyncExitStack::new();
        let inner_local = local.enter_async(SendAsyncExitStack::new()).await.expect("enter");
        inner_local.enter_async(j.probe("in local")).await.expect("enter");
        assert_eq!(format!("{:?}", &**inner), "SendAsyncExitStack { len: 1 }");
        assert_eq!(format!("{outer:?}"), "SendAsyncExitStack { len: 1 }");
        let block = Error::msg("block");
        assert!(!outer.aclose_with(&Outcome::err(&block)).await.expect("no exit failed"));
        local.aclose().await.expect("closed");
    });
    assert_eq!(
        j.lines(),
        [
            "enter in send",
            "entered in send",
            "enter in local",
            "entered in local",
            "exit in send err(block)",
            "exited in send",
            "exit in local ok",
            "exited in local"
        ]
    );
}

static REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn capture(report: &managed::Report<'_>) {
    REPORTS.lock().unwrap_or_else(PoisonError::into_inner).push(format!("{:?}: {:?}", report.kind(), report.error()));
}

/// A spawned task aborted while its stack's close awaits an exit: that exit
/// is dropped and reported (on whichever worker thread dropped the task),
/// and the entries not yet exited get the cancellation policy, newest
/// first, each once; as for `AsyncExitStack`.
#[test]
fn aborting_a_task_mid_close_cancels_the_rest_and_reports() {
    let _previous = managed::set_error_hook(capture);
    let j = Journal::new();
    let exits_started = Arc::new(AtomicUsize::new(0));
    let rt = runtime();
    rt.block_on(async {
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn({
            let (j, exits_started) = (j.clone(), exits_started.clone());
            async move {
                let stack = SendAsyncExitStack::new();
                stack.enter_async(j.probe("a")).await?;
                stack.enter_async(j.probe("b")).await?;
                stack.push_async(move |_: &Outcome<'_>| {
                    exits_started.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let _ = started_tx.send(());
                        std::future::pending::<()>().await; // never finishes
                        Ok(false)
                    }
                });
                stack.aclose().await
            }
        });
        started_rx.await.expect("the blocking exit started");
        task.abort();
        let joined = task.await;
        assert!(joined.expect_err("aborted").is_cancelled());
    });
    assert_eq!(exits_started.load(Ordering::SeqCst), 1);
    assert_eq!(
        j.lines(),
        [
            "enter a",
            "entered a",
            "enter b",
            "entered b",
            "exit b cancelled",
            "exited b",
            "exit a cancelled",
            "exited a"
        ]
    );
    let reports = std::mem::take(&mut *REPORTS.lock().unwrap_or_else(PoisonError::into_inner));
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].starts_with("Cancelled") && reports[0].contains("SendAsyncExitStack::aclose` was cancelled"),
        "{reports:?}"
    );
}
