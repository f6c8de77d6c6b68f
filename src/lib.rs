//! Deterministic, outcome-aware resource management: what Python's `with`,
//! `contextlib` and `async with` give Python programmers, done the Rust way,
//! with the cleanup errors and the outcome that `Drop` cannot carry.
//!
//! ```
//! use managed::{scope, with, defer, Error};
//! use std::io::{BufWriter, Write};
//!
//! let mut report = Vec::new();
//! let total = scope! {
//!     let out = with!(BufWriter::new(&mut report))?;  // entered now, flushed at the end
//!     defer!(err => eprintln!("report failed"));        // only when the scope fails
//!     let n: u32 = "42".parse()?;                       // `?` leaves the scope: exits see the error
//!     writeln!(out, "total: {n}")?;
//!     Ok::<_, Error>(n)
//! }?;                                                   // every exit ran; a flush error is in here
//! assert_eq!(total, 42);
//! assert_eq!(report, b"total: 42\n");
//! # Ok::<(), Error>(())
//! ```
//!
//! # What `Drop` cannot do, and `managed` does
//!
//! - **Return cleanup errors.** An exit returns `Result`: `BufWriter`'s flush
//!   error comes back from the scope instead of being swallowed
//!   (rust-lang/rust#32677).
//! - **See why the scope ends.** Every exit receives an [`Outcome`]: `Ok`,
//!   `Err` (from the tail, `return`, or `?`), `Panic`, or `Cancelled`. So
//!   `defer!(err => ..)` is a real `errdefer`: scopeguard's
//!   `defer_on_success!` counts an `Err` returned through `?` as success.
//! - **Consume the resource.** `exit(self, ..)` takes the manager by value.
//! - **Lose nothing.** The first failure is returned; every later exit error
//!   is attached to it as *suppressed* ([`Error::suppressed`]), or, when the
//!   error type cannot hold it, sent to the [error hook](set_error_hook).
//!
//! # Managers
//!
//! A manager implements [`Manage`]: `enter(&mut self)` acquires and lends a
//! target; `exit(self, &Outcome)` releases. If enter fails, exit is not
//! called. `BufWriter`, `LineWriter` and `File` are managers out of the box
//! (their exits flush / `sync_all` and return the error).
//!
//! # `scope!`, `with!`, `defer!`
//!
//! [`scope!`] runs a block that evaluates to a `Result`. Inside it,
//! [`with!`] enters a manager whose exit runs when the scope ends, and
//! [`defer!`] registers cleanup code; exits and defers run in one
//! last-in-first-out order, on every path, each seeing the exact outcome.
//! `?` and `return` leave the scope (as in an async block), not the
//! function; the scope evaluates to the result *after* every exit ran.
//!
//! Outside a scope, `defer! { .. }` is a plain drop guard (scopeguard's
//! `defer!`), and `defer!(panic => ..)` runs only while unwinding.
//!
//! # `#[managed]`
//!
//! [`#[managed]`](macro@managed) writes the [`Manage`] impl for you: on an `impl`
//! block with `#[enter]`/`#[exit]` methods, on a struct whose `#[managed]`
//! fields are managers (entered in order, exited in reverse, with rollback),
//! or on a function with one [`yield_!`] (Python's `@contextmanager`).
//!
//! # Manual management
//!
//! [`Guard`] enters and exits a manager by hand, for when the lifetime of a
//! resource does not follow a block. `guard.exit(&Outcome::Ok)` (or
//! [`ExitStack::close`]) is how the block says it succeeded: a guard or
//! stack dropped without it, after a `?` say, runs its exits with
//! [`Outcome::Cancelled`] (`Panic` while unwinding), never `Ok`, so a
//! transaction rolls back.
//!
//! # Streams
//!
//! [`stream`] keeps what a streamed response received: `.accumulate()` (the
//! content so far, O(n) in total), `.metered()` (time to first chunk, total
//! time, chunk and byte counts), on iterators and `futures::Stream`s; with
//! `.accumulate_into(&mut acc)` / `.metered_into(&mut meter)` the partial
//! content and final metrics survive a failed, panicking or cancelled
//! consumer.
//!
//! # Errors that have nowhere to go
//!
//! An exit that fails while a panic unwinds, exit errors a scope's error
//! type cannot hold, a dropped [`Guard`] whose exit fails: these go to the
//! error hook ([`set_error_hook`]; by default a line on standard error, or
//! `tracing::warn!` with the `tracing` feature when a subscriber records
//! the event). Never dropped silently.
//!
//! # Panics
//!
//! A panic in the block is caught, every exit runs seeing
//! [`Outcome::Panic`] (with the message), and the panic resumes with its
//! original payload. A panic in an exit is caught too: while unwinding it is
//! reported and the original panic resumes; otherwise it becomes the outcome
//! the remaining exits see and resumes after them. The process never aborts
//! (unless built with `panic = "abort"`, where exits do not run on panic).
//! Inside exits and defers, read the [`Outcome`]: `std::thread::panicking()`
//! is false there, because the panic was caught.
//!
#![doc = include_str!("../docs/async.md")]
//!
//! # Crate features
//!
//! - `std` (default): panic capture, the error hook, the std managers.
//!   Without it the crate is `no_std`; `alloc` adds [`Error`].
//! - `async` (default): async managers and scopes.
//! - `tokio`: [`AsyncManage`] for `tokio::io::BufWriter` and
//!   `tokio::fs::File` (their exits flush and return the error), and
//!   `managed::tokio::spawn_cancelled_exit`.
//! - `tracing`: the default error hook logs with `tracing::warn!` (to
//!   standard error when no subscriber records the event).
//! - `anyhow`: conversions between [`Error`] and `anyhow::Error`.
//! - `testing`: `managed::testing`, a scriptable `Probe` manager and a
//!   `Journal` of what it went through, to test cleanup paths.
//! - `rusqlite`: `managed::rusqlite::Transaction`, a rusqlite transaction
//!   (`BEGIN` on enter, `COMMIT` on `Ok`, `ROLLBACK` otherwise, a savepoint
//!   when nested).
//! - `postgres`: `managed::postgres::{Pooled, Transaction}` for
//!   tokio-postgres with deadpool-postgres; a cancelled scope's connection
//!   is rolled back (awaited, in a spawned task) or closed before anyone can
//!   reuse it. Implies `tokio`.
//! - `sqlx-postgres`, `sqlx-sqlite`: `managed::sqlx::{Pooled, Transaction}`
//!   for sqlx's pools and transactions: `COMMIT`/`ROLLBACK` awaited on every
//!   finished path, a cancelled scope's connection checked (and rolled back)
//!   before it is reused, or closed. Imply `tokio`.
//! - [`stream`] needs `alloc`; its metrics need `std`, its `futures::Stream`
//!   adapters `async`; with `tracing`, a metered stream's end is one event.
//!
//! Managers for the crates users already use, one module each:
//!
//! - `tempfile`: `managed::tempfile::AtomicWrite`, a file replaced by a
//!   rename only when the block succeeds.
//! - `process`: `std::process::Child` as a manager (waited for on `Ok`,
//!   killed and reaped otherwise), documented in `managed::process`; with
//!   `tokio`, `tokio::process::Child` too.
//! - `tokio` (also): `managed::tokio::TaskGroup`, Python's
//!   `asyncio.TaskGroup`.
//! - `tracing` (also): `managed::tracing`, a span per block recording how it
//!   ended and how long it took.
//!
//! # Rust version
//!
//! 1.85 or newer.
#![warn(missing_docs)]
#![warn(unreachable_pub)]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate self as managed;
#[cfg(feature = "std")]
extern crate std;

// What is public, and where: each item has one path (ARCHITECTURE.md, "What
// is public"). The vocabulary is at the root; a module holds the helper
// types of one concept (what a root function returns, a stack's target).
#[cfg(feature = "alloc")]
pub use managed_core::stream;
#[cfg(feature = "testing")]
pub use managed_core::testing;
#[cfg(all(feature = "alloc", feature = "async"))]
pub use managed_core::AsyncExitStack;
#[cfg(feature = "alloc")]
pub use managed_core::Error;
#[cfg(feature = "alloc")]
pub use managed_core::ExitStack;
#[cfg(all(feature = "std", feature = "async"))]
pub use managed_core::SendAsyncExitStack;
pub use managed_core::{closing, nullcontext, suppress, Close};
#[cfg(feature = "std")]
pub use managed_core::{default_error_hook, set_error_hook, timed};
pub use managed_core::{report, ErrorHook, Guard, Manage, Outcome, Report, ReportKind};

/// The types [`suppress`], [`closing`], [`nullcontext`] and `timed` return:
/// Python's `contextlib` helpers as managers.
pub mod contextlib {
    #[cfg(feature = "std")]
    pub use managed_core::contextlib::Timed;
    pub use managed_core::contextlib::{Closing, NullContext, Suppress};
}

/// What an exit stack lends when it is itself entered as a manager.
#[cfg(feature = "alloc")]
pub mod exit_stack {
    pub use managed_core::exit_stack::Entered;
}

/// How an [`Outcome`] shows the block's error and panic.
pub mod outcome {
    pub use managed_core::outcome::{ErrorView, PanicView};
}

/// An outcome-aware block: runs its body, then every exit and defer
/// registered in it, last in first out, each seeing exactly how the body
/// ended; evaluates to the body's `Result` with exit errors merged in.
///
/// ```
/// use managed::{scope, with, defer, Error};
/// use std::io::{BufWriter, Write};
///
/// let mut sink = Vec::new();
/// let n = scope! {
///     let out = with!(BufWriter::new(&mut sink))?;
///     defer!(ok => println!("written"));
///     out.write_all(b"hello")?;
///     Ok::<_, Error>(5)
/// }?;
/// assert_eq!((n, sink.as_slice()), (5, &b"hello"[..]));
/// # Ok::<(), Error>(())
/// ```
///
/// # The body
///
/// The body is a block whose value is a `Result<T, E>`. `?` and `return`
/// inside it leave the scope, as in an async block (not the enclosing
/// function); the scope then evaluates to that result after the exits ran.
/// When nothing else fixes `E`, write it in the tail: `Ok::<_, E>(value)`.
/// `E` must be `Debug + Sync + 'static` (exits see it through
/// [`Outcome::error`]) and `From<M::Error>` for every manager `M` that can
/// fail. A manager that cannot fail (`M::Error` is `Infallible`:
/// [`nullcontext`], `timed`, a `#[managed]` impl whose methods return `()`)
/// needs no conversion, so it is entered in a scope of any error type, also
/// `std::io::Error` or an error enum of your own (neither has
/// `From<Infallible>`). In generic code (`fn f<M: Manage>`), `M::Error` is
/// not known to be `Infallible`: write the bound `E: From<M::Error>`.
/// `Box<dyn Error>` is not `Sync`: use `Box<dyn Error + Send + Sync>` or
/// [`managed::Error`] (the compile error says so).
///
/// ```
/// use managed::{scope, with, nullcontext, timed};
/// use std::io::{self, BufWriter, Write};
///
/// let n: io::Result<u32> = scope! {
///     let _t = with!(timed("write"))?;         // cannot fail: no `From<Infallible>` needed
///     let Ok(n) = with!(nullcontext(41));      // nor is its `Result` ever an error
///     let out = with!(BufWriter::new(Vec::new()))?;
///     out.write_all(b"x")?;
///     Ok(*n + 1)
/// };
/// assert_eq!(n?, 42);
/// # Ok::<(), io::Error>(())
/// ```
///
/// # Exits and the outcome they see
///
/// Each exit and defer sees the primary failure so far: the body's error
/// (from its tail, `?`, `return`, or a `return` hidden in another macro
/// such as `anyhow::bail!`), or its panic, or, if the body succeeded, the
/// first exit error. The scope returns that primary failure; later exit
/// errors are attached to it as suppressed when `E` is [`managed::Error`],
/// and otherwise sent to the [error hook](crate::set_error_hook).
///
/// ```
/// # use managed::{scope, with, Error, Manage, Outcome};
/// struct Tx(&'static str);
/// impl Manage for Tx {
///     type Target = Self;
///     type Error = Error;
///     fn enter(&mut self) -> Result<&mut Self, Error> { Ok(self) }
///     fn exit(self, outcome: &Outcome<'_>) -> Result<(), Error> {
///         Err(Error::msg(format!("{} could not close after {outcome:?}", self.0)))
///     }
/// }
/// let result: Result<(), Error> = scope! {
///     with!(Tx("a"))?;
///     with!(Tx("b"))?;
///     Err(Error::msg("body failed"))
/// };
/// let e = result.unwrap_err();
/// assert_eq!(e.to_string(), "body failed");
/// assert_eq!(e.suppressed().len(), 2); // b's exit error, then a's
/// ```
///
/// # Rules
///
/// - `with!` and the outcome-aware `defer!` forms are statements at the top
///   level of the scope's block, written literally (not produced by another
///   macro), one `with!` per statement. Inside an `if`, a loop or a closure,
///   open a nested `scope!` there.
/// - `#[cfg]` cannot remove a `with!` or `defer!` statement (the rest of the
///   scope is nested inside it): the macro refuses it and says what to write.
/// - `break` and `continue` cannot cross the scope's boundary, and a sync
///   scope cannot `.await`: the macro says so and what to write instead.
/// - The scope ends with its value, not with a `with!` or `defer!`.
/// - The manager expression of `with!(expr)` is evaluated first, then the
///   rest of its statement.
/// - A `with!` without `?` may fail to enter while the rest still runs;
///   only entered managers are exited.
/// - Very long scopes (over ~128 `with!`/`defer!` statements) need a higher
///   `#![recursion_limit]`.
///
/// # What it expands to
///
/// Each top-level `with!`/`defer!` statement splits the block; the rest of
/// the block becomes a nested closure whose result the split point's exit
/// sees. Roughly, `scope! { A; let x = with!(m)?; B }` is:
///
/// ```text
/// (|| {
///     A;
///     let mut m0 = m;
///     let mut entered = false;
///     let body = catch_unwind(|| { let x = enter(&mut m0, &mut entered)?; B });
///     exit_if_entered(entered, m0, body)   // exit sees the exact outcome; merges errors;
/// })()                                     // resumes a panic after the exit ran
/// ```
///
/// No allocation and no `unsafe`. The levels share one `catch_unwind`,
/// called through a `&mut dyn` that release builds devirtualise and inline,
/// so a scope costs what the hand-written `match` costs (BENCHMARKS.md).
///
/// # Async scopes
///
/// `scope!(async { .. })` and `scope!(async move { .. })` are futures: await
/// them. `with!` there takes async managers ([`AsyncManage`], enter and exit
/// awaited) and sync ones alike, and `defer!(async { .. })` is awaited. The
/// rules above hold unchanged; what happens when the future is dropped
/// before it finished is [the cancellation policy](crate#what-happens-on-cancellation).
///
/// ```
/// use managed::{scope, with, defer, Error};
/// use std::io::{BufWriter, Write};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let mut sink = Vec::new();
/// scope!(async {
///     let out = with!(BufWriter::new(&mut sink))?;            // a sync manager works too
///     defer!(err => async { tokio::task::yield_now().await }); // awaited, only on failure
///     tokio::task::yield_now().await;
///     out.write_all(b"data")?;
///     Ok::<_, Error>(())
/// })
/// .await?;                                                    // flushed; a flush error is in here
/// assert_eq!(sink, b"data");
/// # Ok::<(), Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Renamed or re-exported
///
/// `scope!` and `defer!` name this crate through `$crate`, so they work
/// however it is reached: as a renamed dependency (`mg = { package =
/// "managed", .. }`, then `use mg::{scope, with};` or `mg::scope! { let x =
/// mg::with!(m)?; .. }`) or through a crate that re-exports it (`pub use
/// managed;`, then `framework::managed::scope!`). Inside a scope, `with!`
/// and `defer!` are recognised by their last path segment (`with!`,
/// `mg::with!`, `framework::managed::with!`), so a macro imported under
/// another name (`use managed::with as enter;`) is not seen by the scope.
#[macro_export]
macro_rules! scope {
    ($($body:tt)*) => {
        $crate::__private::scope! { [$crate] $($body)* }
    };
}

/// Enters a manager inside [`scope!`]: `let target = with!(manager)?;`.
///
/// Evaluates to `Result<&mut M::Target, M::Error>`; the manager's exit is
/// registered at that point and runs when the scope ends, seeing how it
/// ended. If enter fails, exit is not called. `with!(m)?` leaves the scope
/// with the enter's error converted as `?` does (`From`), except that a
/// manager that cannot fail (`M::Error` is `Infallible`) needs no
/// conversion: it fits a scope of any error type, and `let Ok(target) =
/// with!(m);` is irrefutable.
///
/// ```
/// use managed::{scope, with, Error};
/// use std::io::{BufWriter, Write};
///
/// let mut sink = Vec::new();
/// scope! {
///     let out = with!(BufWriter::new(&mut sink))?;
///     out.write_all(b"x")?;
///     Ok::<_, Error>(())
/// }?;
/// # Ok::<(), Error>(())
/// ```
///
/// Only valid as a top-level statement of a `scope!` block; anywhere else it
/// is a compile error that says what to write instead.
pub use managed_macros::with;

#[cfg(feature = "tokio")]
pub use managed_core::tokio;

// Integrations, one module each (`managed::rusqlite`, ..; `managed::tokio::TaskGroup` is in the `tokio`
// module above): present whenever managed-core has the feature, which the facade's feature of the same
// name turns on, and which the examples turn on through their dev-dependency on managed-core.
#[cfg(feature = "std")]
#[doc(inline)]
// With no integration feature on, the module is empty and the glob imports nothing; that build is
// still valid, so the lints that would reject it are allowed here only.
#[allow(unused_imports, unreachable_pub)]
pub use managed_core::integrations::*;
#[cfg(feature = "async")]
pub use managed_core::{AsyncManage, SendAsyncManage};
/// Runs code when the enclosing block ends: a drop guard, or, inside
/// [`scope!`], an outcome-aware cleanup.
///
/// | form | runs | where |
/// | --- | --- | --- |
/// | `defer! { .. }`, `defer!(expr)` | always | anywhere |
/// | `defer!(panic => ..)` | only on a panic | anywhere |
/// | `defer!(ok => ..)` | when the scope succeeds | top level of `scope!` |
/// | `defer!(err => ..)` | on an error or a panic | top level of `scope!` |
/// | `defer!(\|outcome\| ..)` | always, seeing the [`Outcome`] | top level of `scope!` |
/// | `defer!(async { .. })`, `defer!(err => async { .. })` | awaited | top level of `scope!(async ..)` |
///
/// Deferred code runs last in first out, interleaved with the exits of the
/// scope's managers. Its value must be `()`. Inside a scope (sync or async)
/// a defer is registered where it stands: one after a `?`, a `return` or a
/// failed `with!(..)?` that left the scope does not run, as a manager that
/// was not entered is not exited.
///
/// Outside a scope it is scopeguard's `defer!`: it runs once, at the end of
/// the enclosing block, also while unwinding.
///
/// ```
/// use managed::defer;
/// use std::cell::RefCell;
///
/// let log = RefCell::new(Vec::new());
/// {
///     defer!(log.borrow_mut().push("second"));
///     log.borrow_mut().push("first");
/// }
/// assert_eq!(*log.borrow(), ["first", "second"]);
/// ```
///
/// Inside a scope, a defer runs after the rest of the scope has finished,
/// so it may mutably borrow what the body borrows:
///
/// ```
/// use managed::{scope, defer, Error};
///
/// let mut log = Vec::new();
/// let r: Result<(), Error> = scope! {
///     defer!(err => log.push("rolled back"));
///     log.push("step 1");
///     Err(Error::msg("step 2 failed"))
/// };
/// assert!(r.is_err());
/// assert_eq!(log, ["step 1", "rolled back"]);
/// ```
///
/// In an async scope, the same, awaited; the defer after the early `return`
/// was never reached, so it does not run:
///
/// ```
/// use managed::{scope, with, defer, nullcontext, Error};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let mut log = Vec::new();
/// let cached: Option<u32> = Some(7);
/// let r: Result<u32, Error> = scope!(async {
///     with!(nullcontext(()))?;
///     defer!(|outcome| log.push(format!("done: {outcome:?}")));
///     if let Some(hit) = cached {
///         return Ok(hit);
///     }
///     defer!(ok => async { log.push("stored".to_string()) }); // not reached
///     tokio::task::yield_now().await;
///     Ok(0)
/// })
/// .await;
/// assert_eq!(r?, 7);
/// assert_eq!(log, ["done: Ok"]);
/// # Ok::<(), Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Inside a scope a panicking defer is treated as a panicking exit: the
/// older exits and defers see it as the outcome, then it resumes (a body
/// error it replaces goes to the [error hook](crate::set_error_hook)); while
/// the body's own panic unwinds, the defer's panic is caught and reported,
/// and the body's panic resumes. A panic in a `defer! { .. }` *outside* a
/// scope while the block is already unwinding aborts the process, as with
/// scopeguard and any `Drop`.
#[macro_export]
macro_rules! defer {
    ($($body:tt)*) => {
        $crate::__private::defer! { [$crate] $($body)* }
    };
}

/// Annotate and get the boilerplate: writes the [`Manage`] impl of an
/// `impl` block, of a struct of managers, or of a function written like
/// Python's `@contextmanager`.
///
/// # On an `impl` block
///
/// The method marked `#[exit]` becomes [`Manage::exit`], the one marked
/// `#[enter]` (optional) [`Manage::enter`]; the target is `Self`.
///
/// - `#[enter]` takes `&mut self` and returns `()` or `Result<(), E>`.
/// - `#[exit]` takes `self` (by value: the exit consumes the manager), and
///   optionally `&Outcome`; it returns `()` or `Result<(), E>`.
/// - The error type comes from the signatures: both fallible ones must name
///   the same `E` (a compile error says so otherwise); it is
///   [`Infallible`](core::convert::Infallible) when neither can fail.
/// - The methods stay ordinary inherent methods.
///
/// ```
/// use managed::{managed, scope, with, Outcome};
///
/// struct Transaction { log: Vec<&'static str> }
///
/// #[managed]
/// impl Transaction {
///     #[enter]
///     fn begin(&mut self) -> Result<(), std::io::Error> {
///         self.log.push("BEGIN");
///         Ok(())
///     }
///
///     #[exit]
///     fn finish(self, outcome: &Outcome) -> Result<(), std::io::Error> {
///         let verb = if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" };
///         println!("{:?} then {verb}", self.log);
///         Ok(())
///     }
/// }
///
/// let rows = scope! {
///     let tx = with!(Transaction { log: vec![] })?;   // tx: &mut Transaction
///     tx.log.push("INSERT");
///     Ok::<_, std::io::Error>(tx.log.len())
/// }?;
/// assert_eq!(rows, 2);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// What it expands to (besides the impl block, without the markers):
///
/// ```text
/// impl Manage for Transaction {
///     type Target = Self;
///     type Error = std::io::Error;
///     fn enter(&mut self) -> Result<&mut Self, Self::Error> { Self::begin(self)?; Ok(self) }
///     fn exit(self, outcome: &Outcome<'_>) -> Result<(), Self::Error> { Self::finish(self, outcome) }
/// }
/// ```
///
/// # On a struct
///
/// Fields marked `#[managed]` are managers entered in declaration order and
/// exited in reverse; the target is the struct. Unmarked fields are plain
/// data. Generic structs and lifetimes work.
///
/// - If a field fails to enter (or panics), the fields already entered are
///   exited, seeing that failure, and the failure is returned (their exit
///   errors attached as suppressed).
/// - Every field exits, even when some fail: the first failure is returned,
///   later ones are attached to it as suppressed (with [`Error`]) or sent
///   to the error hook; each exit sees the primary failure so far.
/// - The error type is [`Error`], or `#[managed(error = Type)]`; each
///   field's error converts into it with `From`, except for a field that
///   cannot fail (its error is `Infallible`, as `timed`'s), which needs no
///   conversion. A field whose type is a type parameter `M` of the struct
///   needs `Type: From<M::Error>` in any case (the impl is bound on it).
///   `Type` must be `Debug + Sync + 'static`, as a scope's error type: each
///   exit sees it in its [`Outcome`] (`Box<dyn Error + Send + Sync>`, not
///   `Box<dyn Error>`).
/// - `#[managed(enter = path, exit = path)]` name hooks: `enter` runs after
///   every field entered (`fn(&mut Self) -> ()` or `Result<(), E>`), `exit`
///   before any field exits (`fn(&mut Self, &Outcome) -> ()` or
///   `Result<(), E>`).
/// - A marked field's type becomes [`Slot<T>`](Slot): a failed enter must
///   exit the fields it entered *by value* while the caller still owns the
///   struct. Build it with `.into()`; it derefs to the manager.
///
/// ```
/// use managed::{managed, scope, with, Outcome};
/// use std::io::{BufWriter, Write};
///
/// #[managed(exit = Report::footer)]
/// struct Report<W: Write> {
///     #[managed]
///     out: BufWriter<W>,   // flushed by its exit, after the footer
///     lines: usize,        // plain data
/// }
///
/// impl<W: Write> Report<W> {
///     fn footer(&mut self, outcome: &Outcome) -> std::io::Result<()> {
///         if outcome.is_ok() {
///             writeln!(self.out, "-- {} lines", self.lines)?;
///         }
///         Ok(())
///     }
/// }
///
/// let mut sink = Vec::new();
/// scope! {
///     let report = with!(Report { out: BufWriter::new(&mut sink).into(), lines: 0 })?;
///     writeln!(report.out, "hello")?;
///     report.lines += 1;
///     Ok::<_, managed::Error>(())
/// }?;
/// assert_eq!(String::from_utf8_lossy(&sink), "hello\n-- 1 lines\n");
/// # Ok::<(), managed::Error>(())
/// ```
///
/// # On a function with one `yield_!`
///
/// Python's `@contextmanager`: the code before [`yield_!`] is the enter, the
/// code after it the exit. `yield_!(value)` lends `&mut value` to the block
/// and evaluates to the block's [`&Outcome`](Outcome). Each call returns a
/// fresh manager, `impl Manage<Target = T, Error = E>`, which captures the
/// arguments.
///
/// - Return type `Result<T, E>` declares the target `T` and the error `E`;
///   a bare `T` cannot fail (`Infallible`). Write `Result<T, E>` in full
///   (an alias like `io::Result<T>` hides `E`).
/// - `?` or `return Err(..)` before `yield_!` is an enter failure: the exit
///   part does not run. `?` after it is an exit failure. The exit part ends
///   with `()` (or an explicit `Ok(())`).
///   Before `yield_!` a `return` can only be `return Err(..)` (nothing is
///   lent otherwise: a compile error says so); after it `return;` ends the
///   exit part.
/// - `yield_!` appears exactly once, as a top-level statement:
///   `let outcome = yield_!(value);` or `yield_!(value);`.
/// - The value and the locals the exit part mentions are kept (moved) from
///   enter to exit, as are locals never used after their `let` (a lock
///   guard stays held); a local used before `yield_!` and not mentioned
///   after it is dropped at enter. A kept local must not borrow another
///   local. Write elided lifetimes in paths (`Ref<'_, T>`). Methods
///   (`&self`, `&mut self`, `self`), associated fns of generic impls and
///   `impl Trait` arguments and targets work.
/// - No allocation, no `unsafe`: the enter and exit parts are two closures.
///
/// ```
/// use managed::{managed, scope, with, yield_};
/// use std::time::Instant;
///
/// #[managed]
/// fn timed(label: &str) -> Result<Vec<u64>, std::fmt::Error> {
///     let start = Instant::now();
///     let outcome = yield_!(Vec::new());          // the block gets `&mut Vec<u64>`
///     println!("{label}: {:?}, ok: {}", start.elapsed(), outcome.is_ok());
/// }
///
/// let sum = scope! {
///     let samples = with!(timed("sampling"))?;
///     samples.extend([1, 2, 3]);
///     Ok::<_, std::fmt::Error>(samples.iter().sum::<u64>())
/// }?;
/// assert_eq!(sum, 6);
/// # Ok::<(), std::fmt::Error>(())
/// ```
///
/// # Async forms (feature `async`)
///
/// - On an `impl` block whose `#[enter]`/`#[exit]` methods are `async fn`
///   (both, or an `async` exit alone): an [`AsyncManage`] impl, with the
///   same signature and error-type rules. It is `AsyncManage`, not
///   [`SendAsyncManage`], so non-`Send` types work; a scope over a `Send`
///   one is still a `Send` future (the compiler sees the concrete futures).
/// - On a struct with fields marked `#[managed(async)]` (the macro cannot
///   see which traits a type implements, so the field says it is an async
///   manager): an [`AsyncManage`] impl. Fields marked `#[managed]` are sync
///   managers and mix freely with async ones; the order, rollback,
///   suppressed-error and hook rules are those of the sync struct (a hook
///   may be an `async fn`, next item). If the scope is cancelled while the struct enters,
///   exits or is entered, every field still entered gets its cancelled exit
///   ([`AsyncManage::exit_cancelled`], or the sync exit with
///   [`Outcome::Cancelled`]), newest first, after the `exit` hook.
/// - A hook that is an `async fn` is marked `async`, which the macro cannot
///   see: `#[managed(enter = async path, exit = async path)]`, each hook
///   independently (`async fn(&mut Self)` / `async fn(&mut Self,
///   &Outcome<'_>)`, returning `()` or `Result<(), E>`). An async hook makes
///   the struct an [`AsyncManage`] even when no field is async. Awaited at
///   the same points as a sync hook, with the same rules. If the struct is
///   cancelled once entered, its async `exit` hook is polled **once** in
///   place with [`Outcome::Cancelled`] (as the default
///   [`AsyncManage::exit_cancelled`] does; a hook that must clean up then
///   checks `outcome.is_cancelled()` and does not wait), what it did not
///   finish is reported, then the fields get their cancelled exits. If the
///   scope is dropped while a hook is awaited, the hook's future is dropped
///   and every field still entered gets its cancelled exit, once; a failure
///   the struct was carrying (a failed hook or field) is reported.
/// - On an `async fn` with one `yield_!`: the whole body becomes one
///   coroutine and `yield_!(value)` an `.await` that lends `&mut value` to
///   the block, so locals may borrow each other across it and `value` is
///   used by name after it (a value that is not a local is moved into the
///   coroutine first). The rules on `yield_!`, the return type and `?` are
///   the sync fn's; `return` before `yield_!` can only give `Err(..)`.
///   Each call allocates once (the parked body points into itself). The fn
///   returns `AsyncFnManager<T, E, impl Future>` (from
///   `managed::__private`), an [`AsyncManage`] whose futures are `Send`
///   when the arguments and the body's locals are.
/// - Cancellation of an async fn's manager: cancelled before the `yield_!`,
///   the body is dropped and nothing exits. Cancelled in the block
///   ([`AsyncManage::exit_cancelled`]), the code after `yield_!` runs once
///   in place with [`Outcome::Cancelled`]: what it awaits that is not ready
///   is dropped and reported. `#[managed(on_cancel = path)]` names a sync
///   fallback that runs instead, `fn(&mut T)` returning `()` or
///   `Result<(), E>` (then the code after `yield_!` does not run; the body
///   is dropped). Cancelled while the code after `yield_!` is awaited, its
///   rest is dropped (the scope reports the interruption).
///
/// ```
/// use managed::{managed, scope, with, Outcome};
///
/// struct Conn { open: bool }
///
/// #[managed]
/// impl Conn {
///     #[enter]
///     async fn connect(&mut self) -> Result<(), std::io::Error> {
///         self.open = true; // e.g. `TcpStream::connect(..).await?`
///         Ok(())
///     }
///
///     #[exit]
///     async fn close(self, outcome: &Outcome<'_>) -> Result<(), std::io::Error> {
///         println!("closing, ok: {}", outcome.is_ok()); // e.g. `.shutdown().await?`
///         Ok(())
///     }
/// }
///
/// /// A sync and an async manager, entered in order, exited in reverse.
/// #[managed]
/// struct Session {
///     #[managed(async)]
///     conn: Conn,
///     #[managed]
///     audit: std::io::BufWriter<Vec<u8>>,
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let open = scope!(async {
///     let s = with!(Session { conn: Conn { open: false }.into(), audit: std::io::BufWriter::new(Vec::new()).into() })?;
///     Ok::<_, managed::Error>(s.conn.open)
/// })
/// .await?;
/// assert!(open);
/// # Ok::<(), managed::Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Async hooks: a pooled connection configured after it connected, and
/// queued statements flushed (awaited) before anything closes.
///
/// ```
/// use managed::{managed, scope, with, Outcome};
/// use std::{cell::RefCell, rc::Rc};
///
/// # /// Stands for a client whose `execute` is awaited.
/// # struct Conn { sent: Rc<RefCell<Vec<String>>> }
/// # #[managed]
/// # impl Conn {
/// #     #[exit]
/// #     async fn close(self) {}
/// # }
/// # impl Conn {
/// #     async fn execute(&mut self, sql: &str) -> Result<(), std::io::Error> {
/// #         self.sent.borrow_mut().push(sql.to_owned());
/// #         Ok(())
/// #     }
/// # }
/// #[managed(enter = async Session::configure, exit = async Session::flush)]
/// struct Session {
///     #[managed(async)]
///     conn: Conn, // an async manager (as in the example above)
///     queued: Vec<String>,
/// }
///
/// impl Session {
///     /// Runs after every field entered; an error rolls the fields back.
///     async fn configure(&mut self) -> Result<(), std::io::Error> {
///         self.conn.execute("SET search_path TO app").await
///     }
///
///     /// Runs before any field exits; its error joins the fields' errors.
///     async fn flush(&mut self, outcome: &Outcome<'_>) -> Result<(), std::io::Error> {
///         if outcome.is_ok() {
///             for sql in std::mem::take(&mut self.queued) {
///                 self.conn.execute(&sql).await?;
///             }
///         }
///         Ok(())
///     }
/// }
///
/// let sent = Rc::new(RefCell::new(Vec::new()));
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// scope!(async {
///     let s = with!(Session { conn: Conn { sent: sent.clone() }.into(), queued: vec![] })?;
///     s.queued.push("INSERT INTO t VALUES (1)".into());
///     Ok::<_, managed::Error>(())
/// })
/// .await?;
/// # Ok::<(), managed::Error>(())
/// # })?;
/// assert_eq!(*sent.borrow(), ["SET search_path TO app", "INSERT INTO t VALUES (1)"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// An async fn, DESIGN's transaction (`conn` stays in the coroutine and is
/// used after the block):
///
/// ```
/// use managed::{managed, scope, with, yield_};
///
/// struct Conn { log: Vec<&'static str> }
///
/// impl Conn {
///     async fn execute(&mut self, sql: &'static str) -> Result<(), std::io::Error> {
///         self.log.push(sql); // e.g. a round trip to the database
///         Ok(())
///     }
/// }
///
/// /// On cancellation nothing can be awaited: do not reuse the connection.
/// fn discard(conn: &mut Conn) {
///     conn.log.push("DISCARD");
/// }
///
/// #[managed(on_cancel = discard)]
/// async fn transaction(mut conn: Conn) -> Result<Conn, std::io::Error> {
///     conn.execute("BEGIN").await?;
///     let outcome = yield_!(conn);                      // the block gets `&mut conn`
///     conn.execute(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" }).await?;
///     assert_eq!(conn.log, ["BEGIN", "INSERT", "COMMIT"]);
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// scope!(async {
///     let conn = with!(transaction(Conn { log: Vec::new() }))?;
///     conn.execute("INSERT").await?;
///     Ok::<_, managed::Error>(())
/// })
/// .await?;
/// # Ok::<(), managed::Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Options
///
/// - `crate = "path"`: the path of this crate, when it is renamed or
///   re-exported (as serde's and tokio's `crate` option).
/// - On a struct: `enter = path`, `exit = path`, `error = Type` (above).
/// - On a struct: `enter = async path`, `exit = async path` for hooks that
///   are `async fn`s (above).
/// - On an `async fn`: `on_cancel = path` (above).
///
/// Unknown, misplaced and repeated options are compile errors that name the
/// option.
pub use managed_macros::managed;

/// Lends a value from a [`#[managed]`](macro@managed) function to the block and
/// evaluates to the block's [`&Outcome`](Outcome). Valid only as a
/// top-level statement of a `#[managed]` fn: `let outcome = yield_!(value);`
/// or `yield_!(value);` (anywhere else it is a compile error).
///
/// ```
/// use managed::{managed, yield_, Guard, Outcome};
///
/// #[managed]
/// fn counter(start: u32) -> u32 {
///     let outcome = yield_!(start);
///     println!("counter ended, ok: {}", outcome.is_ok());
/// }
///
/// let mut guard = Guard::new(counter(40));
/// let Ok(n) = guard.enter(); // a `#[managed] fn` without `Result` cannot fail
/// *n += 2;
/// let Ok(()) = guard.exit(&Outcome::Ok);
/// ```
pub use managed_macros::yield_;

/// Python's `ContextDecorator`: wraps a function's body in a [`scope!`]
/// that enters fresh managers on every call, exits them when the body ends
/// (newest first, seeing its outcome), and returns their errors through the
/// function's `Result`.
///
/// `#[scoped(a, b)] fn f(..) -> R { body }` is
/// `fn f(..) -> R { scope! { with!(a)?; with!(b)?; body } }`;
/// on an `async fn`, `scope!(async move { .. }).await` (async and sync
/// managers). The manager expressions may use the arguments. `return` and
/// `?` in the body leave the scope, so the exits still run. The function
/// must return a `Result` whose error converts from the managers' errors
/// (a manager that cannot fail, such as `timed`, needs no conversion).
///
/// An attribute cannot find this crate under another name by itself: when
/// it is a renamed dependency or reached through a re-export, say where it
/// is first, as with [`#[managed]`](macro@managed):
/// `#[mg::scoped(crate = "mg", timed("load"))]`.
///
/// ```
/// use managed::{scoped, Error};
/// use std::io::BufWriter;
///
/// #[scoped(BufWriter::new(std::io::sink()), BufWriter::new(Vec::<u8>::new()))]
/// fn parse(text: &str) -> Result<u32, Error> {
///     Ok(text.trim().parse::<u32>()?)
/// }
/// assert_eq!(parse(" 42 ")?, 42);
/// assert!(parse("x").is_err()); // the managers were exited on the error too
/// # Ok::<(), Error>(())
/// ```
pub use managed_macros::scoped;

pub use managed_core::Slot;

/// The names most code needs: `use managed::prelude::*;`.
///
/// ```
/// use managed::prelude::*;
///
/// struct Tx(Vec<&'static str>);
///
/// #[managed]
/// impl Tx {
///     #[exit]
///     fn finish(mut self, outcome: &Outcome) {
///         self.0.push(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" });
///         println!("{:?}", self.0);
///     }
/// }
///
/// let mut log = Vec::new();
/// let rows = scope! {
///     let tx = with!(Tx(vec!["BEGIN"]))?;
///     defer!(ok => log.push("committed"));
///     tx.0.push("INSERT");
///     Ok::<_, managed::Error>(tx.0.len() - 1)
/// }?;
/// assert_eq!((rows, log.as_slice()), (1, &["committed"][..]));
/// # Ok::<(), managed::Error>(())
/// ```
pub mod prelude {
    // `no_inline`: listed as re-exports, so that the docs show each item
    // once, at its own path.
    #[cfg(feature = "async")]
    #[doc(no_inline)]
    pub use crate::AsyncManage;
    #[doc(no_inline)]
    pub use crate::{defer, scope, with, Manage, Outcome};
    // From the macro crate, not `crate::managed`: that path also names the
    // `extern crate self as managed` (rust-lang/rust#127909).
    #[doc(no_inline)]
    pub use managed_macros::{managed, yield_};

    #[cfg(all(feature = "alloc", feature = "async"))]
    #[doc(no_inline)]
    pub use crate::AsyncExitStack;
    #[cfg(feature = "alloc")]
    #[doc(no_inline)]
    pub use crate::ExitStack;
}

/// Support for the code the macros generate. Not public API: no stability
/// promise, may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use core::convert::{From, Infallible};
    pub use core::option::Option::Some;
    pub use core::result::Result::{self, Err, Ok};
    #[cfg(feature = "async")]
    pub use managed_core::AsyncManage;
    #[cfg(feature = "alloc")]
    pub use managed_core::Error;
    pub use managed_core::{Manage, Outcome};
    /// The proc macros behind the `scope!` and `defer!` wrappers, which call
    /// them with `[$crate]` first (so that generated code names this crate
    /// by a path that works under any rename or re-export).
    pub use managed_macros::{defer, scope};

    // The runtime, from the core's list of the same name.

    pub use managed_core::__private::Defer;
    #[cfg(feature = "std")]
    pub use managed_core::__private::DeferOnPanic;
    #[cfg(feature = "async")]
    pub use managed_core::__private::{
        async_field_error, async_hook, async_managed_field, cancel_hook, cancel_hook_async, cancel_slot,
        cancel_slot_async, enter_slot_async, AsyncExits, AsyncFieldManager, AsyncHook, AsyncHookOutput,
        AsyncManagedField, CancelOnDrop, ViaAsyncField,
    };
    #[cfg(feature = "async")]
    pub use managed_core::__private::{
        catch_async, defer_async, defer_sync, enter_async, exit_async, finish, into_entered, merge_exit, AdaptSync,
        AsyncKind, AsyncSlot, SyncInAsync, SyncKind,
    };
    #[cfg(all(feature = "alloc", feature = "async"))]
    pub use managed_core::__private::{coroutine, enter_failed, AsyncFnManager};
    pub use managed_core::__private::{defer_level, enter_tracked, exit_level_if_entered};
    pub use managed_core::__private::{
        enter_all, enter_slot, field_error, managed_field, Exits, FieldManager, ManagedField, ViaField,
    };
    pub use managed_core::__private::{
        error_of, exit_error, manager_error, CannotFail, CannotFailKind, Convert, ViaFrom, ViaFromKind,
    };
    pub use managed_core::__private::{fn_enter_failed, Captures, EnterFailure, FnManager};
    pub use managed_core::__private::{outcome_of, run_level, Panicked, ScopeError, When};
    pub use managed_core::__private::{Fallible, ReturnError, Returns};
}

// The examples of README.md and docs/from-python.md run as doctests (only
// rustdoc's test pass sees these modules), so the prose cannot drift from
// the code. The guide's `TaskGroup` example needs the `tokio` feature.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
#[cfg(all(doctest, feature = "tokio"))]
#[doc = include_str!("../docs/from-python.md")]
mod from_python {}
