//! Runs plans through the real constructs. The macros cannot be generated
//! at run time, so each is written once with everything the contract names
//! in it, and the plan switches parts on: a program's `scope!` has one
//! *unit* per statement it may have ([`UNITS`](crate::plan::UNITS)), and
//! each unit holds every kind of statement (`with!` with and without `?`,
//! sync and async managers, every `defer!` form, the points where a body
//! leaves or awaits, nested constructs), of which the plan's statement
//! switches on its own. A unit switched off enters a manager that does
//! nothing and awaits nothing, and its defers do nothing: nothing a run can
//! observe.

use std::future::Future;
use std::pin::Pin;

use managed::testing::{Act, Journal, Probe, ProbeError, Seen};
use managed::{
    defer, managed, scope, with, yield_, AsyncExitStack, AsyncManage, Error, ExitStack, Guard, Manage, Outcome,
    SendAsyncExitStack, Slot,
};

use crate::plan::*;

/// The future of an async run.
pub type AsyncFuture<'r, T = u32> = Pin<Box<dyn Future<Output = Result<T, Error>> + 'r>>;

/// What a run's parts share: the journal.
pub struct Ctx {
    pub j: Journal,
}

/// A sync manager that is a probe, or (switched off) nothing; its
/// `Manage` impl is `#[managed]`'s, from an impl block.
pub struct MaybeSync(Option<Probe>);

#[managed]
impl MaybeSync {
    #[enter]
    fn enter(&mut self) -> Result<(), ProbeError> {
        if let Some(p) = &mut self.0 {
            Manage::enter(p)?;
        }
        Ok(())
    }

    #[exit]
    fn exit(self, outcome: &Outcome) -> Result<(), ProbeError> {
        self.0.map_or(Ok(()), |p| Manage::exit(p, outcome))
    }
}

/// A manager returned by a `#[managed]` fn, or (switched off) nothing.
pub struct MaybeFn<M>(Option<M>);

impl<M: Manage> Manage for MaybeFn<M> {
    type Target = Self;
    type Error = M::Error;
    fn enter(&mut self) -> Result<&mut Self, M::Error> {
        if let Some(m) = &mut self.0 {
            m.enter()?;
        }
        Ok(self)
    }
    fn exit(self, outcome: &Outcome<'_>) -> Result<(), M::Error> {
        self.0.map_or(Ok(()), |m| m.exit(outcome))
    }
}

/// A manager returned by a `#[managed] async fn`, or (switched off)
/// nothing; its cancelled exit is the manager's.
pub struct MaybeAsyncFn<M>(Option<M>);

impl<M: AsyncManage> AsyncManage for MaybeAsyncFn<M> {
    type Target = Self;
    type Error = M::Error;
    async fn enter(&mut self) -> Result<&mut Self, M::Error> {
        if let Some(m) = &mut self.0 {
            m.enter().await?;
        }
        Ok(self)
    }
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), M::Error> {
        match self.0 {
            Some(m) => m.exit(outcome).await,
            None => Ok(()),
        }
    }
    fn exit_cancelled(self) {
        if let Some(m) = self.0 {
            m.exit_cancelled();
        }
    }
}

/// The probe entered before the `yield_!` and exited after it.
#[managed]
fn via_fn(mut probe: Probe) -> Result<Probe, ProbeError> {
    Manage::enter(&mut probe)?;
    let outcome = yield_!(probe);
    Manage::exit(probe, outcome)?;
}

/// The probe entered before the `yield_!` and exited after it, awaited.
#[managed]
async fn via_async_fn(mut probe: Probe) -> Result<Probe, ProbeError> {
    AsyncManage::enter(&mut probe).await?;
    let outcome = yield_!(probe);
    AsyncManage::exit(probe, outcome).await?;
}

/// An async manager that is a probe, or (switched off) nothing; its
/// cancelled exit is the probe's (default policy or override).
pub struct MaybeAsync(Option<Probe>);

impl AsyncManage for MaybeAsync {
    type Target = Self;
    type Error = ProbeError;
    async fn enter(&mut self) -> Result<&mut Self, ProbeError> {
        if let Some(p) = &mut self.0 {
            AsyncManage::enter(p).await?;
        }
        Ok(self)
    }
    async fn exit(self, outcome: &Outcome<'_>) -> Result<(), ProbeError> {
        match self.0 {
            Some(p) => AsyncManage::exit(p, outcome).await,
            None => Ok(()),
        }
    }
    fn exit_cancelled(self) {
        if let Some(p) = self.0 {
            AsyncManage::exit_cancelled(p);
        }
    }
}

/// Pending once (waking itself), then ready: an await of the body, of an
/// async defer or of an async stack function.
struct Yield(bool);

impl Future for Yield {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

fn step(prog: &Program, k: usize) -> Option<&Step> {
    prog.steps.get(k)
}

fn act_failure(failure: Option<(String, bool)>) -> Result<(), Error> {
    match failure {
        None => Ok(()),
        Some((label, false)) => Err(Error::msg(label)),
        Some((label, true)) => std::panic::panic_any(label),
    }
}

impl Ctx {
    pub fn probe(&self, p: &ProbePlan) -> Probe {
        let probe = self
            .j
            .probe(probe_name(p.id))
            .at_enter(p.enter)
            .at_exit(p.exit)
            .pending_when_cancelled(p.pending_when_cancelled);
        if p.override_cancel {
            probe.override_exit_cancelled()
        } else {
            probe
        }
    }

    fn probe_if(&self, prog: &Program, k: usize, checked: bool, mode: Mode) -> Option<Probe> {
        match step(prog, k) {
            Some(Step::With { probe, mode: m }) if checked && *m == mode => Some(self.probe(probe)),
            Some(Step::Unchecked { probe, mode: m, .. }) if !checked && *m == mode => Some(self.probe(probe)),
            _ => None,
        }
    }

    /// The manager of unit `k`'s `with!(..)?` of a sync manager.
    pub fn checked_sync(&self, prog: &Program, k: usize) -> MaybeSync {
        MaybeSync(self.probe_if(prog, k, true, Mode::Sync))
    }

    /// The manager of unit `k`'s `with!(..)` (no `?`) of a sync manager.
    pub fn unchecked_sync(&self, prog: &Program, k: usize) -> MaybeSync {
        MaybeSync(self.probe_if(prog, k, false, Mode::Sync))
    }

    pub fn checked_async(&self, prog: &Program, k: usize) -> MaybeAsync {
        MaybeAsync(self.probe_if(prog, k, true, Mode::Async))
    }

    pub fn unchecked_async(&self, prog: &Program, k: usize) -> MaybeAsync {
        MaybeAsync(self.probe_if(prog, k, false, Mode::Async))
    }

    /// The manager of unit `k`'s `with!(..)?` of a `#[managed]` fn.
    pub fn checked_fn(&self, prog: &Program, k: usize) -> MaybeFn<impl Manage<Error = ProbeError>> {
        MaybeFn(self.probe_if(prog, k, true, Mode::SyncFn).map(via_fn))
    }

    /// The manager of unit `k`'s `with!(..)?` of a `#[managed] async fn`.
    pub fn checked_async_fn(&self, prog: &Program, k: usize) -> MaybeAsyncFn<impl AsyncManage<Error = ProbeError>> {
        MaybeAsyncFn(self.probe_if(prog, k, true, Mode::AsyncFn).map(via_async_fn))
    }

    /// The statement after a `with!` without `?`: what the body does with
    /// a failed enter.
    pub fn inspect<E: From<ProbeError>>(
        &self,
        prog: &Program,
        k: usize,
        entered: Result<(), ProbeError>,
    ) -> Result<(), E> {
        match (step(prog, k), entered) {
            (_, Ok(())) | (Some(Step::Unchecked { then: Inspect::Ignore, .. }), Err(_)) => Ok(()),
            (Some(Step::Unchecked { then: Inspect::Note, .. }), Err(e)) => {
                self.j.note(format!("saw {e}"));
                Ok(())
            }
            (_, Err(e)) => Err(e.into()),
        }
    }

    /// Unit `k`'s sync defer of `form`.
    pub fn defer(&self, prog: &Program, k: usize, form: Form, outcome: Option<&Outcome<'_>>) {
        if let Some(Step::Defer { id, form: f, panics }) = step(prog, k) {
            if *f == form {
                match outcome {
                    Some(o) => self.j.note(format!("d{id} saw {:?}", Seen::of(o))),
                    None => self.j.note(format!("d{id}")),
                }
                if *panics {
                    std::panic::panic_any(defer_panic(*id));
                }
            }
        }
    }

    /// Unit `k`'s async defer of `form`.
    pub async fn defer_async(&self, prog: &Program, k: usize, form: Form) {
        if let Some(Step::Defer { id, form: f, panics }) = step(prog, k) {
            if *f == form {
                self.j.note(format!("d{id}"));
                Yield(false).await;
                if *panics {
                    std::panic::panic_any(defer_panic(*id));
                }
            }
        }
    }

    /// Unit `k`'s point (`return` and the hidden `return` come in the
    /// statements after it: [`returns`], [`hides_return`]), guard or block.
    pub fn point_plain(&self, prog: &Program, k: usize) -> Result<(), BodyError> {
        match step(prog, k) {
            Some(Step::Point { id, point }) => self.reach(*id, *point),
            Some(Step::Guard { probe, exits }) => {
                let mut guard = Guard::new(self.probe(probe));
                guard.enter()?;
                if *exits {
                    guard.exit(&Outcome::Ok)?;
                }
                // Otherwise dropped here, unexited.
                Ok(())
            }
            Some(Step::Block { guard, on_panic: false, point, end, .. }) => {
                defer! { self.j.note(format!("g{guard}")) }
                self.reach(*point, *end)
            }
            Some(Step::Block { guard, on_panic: true, panics, point, end }) => {
                defer!(panic => {
                    self.j.note(format!("g{guard}"));
                    if *panics {
                        std::panic::panic_any(guard_panic(*guard));
                    }
                });
                self.reach(*point, *end)
            }
            _ => Ok(()),
        }
    }

    /// Point `b{id}` is reached: it notes, then does what `point` says.
    fn reach(&self, id: usize, point: Point) -> Result<(), BodyError> {
        self.j.note(format!("b{id}"));
        match point {
            Point::Question => Err(BodyError(body_error(id)))?,
            Point::Panic => std::panic::panic_any(body_panic(id)),
            Point::Pass | Point::Return | Point::HiddenReturn | Point::Yield(_) => {}
        }
        Ok(())
    }

    /// Unit `k`'s point or nested construct (sync program).
    pub fn point(&self, prog: &Program, k: usize) -> Result<(), Error> {
        match step(prog, k) {
            Some(Step::Scope(sub)) => match sub.error {
                ScopeError::Managed => sync_program(self, sub).map(drop),
                ScopeError::Plain => sync_program_plain(self, sub).map(drop).map_err(Error::new),
            },
            Some(Step::Stack(st)) => self.stack_sync(st),
            _ => Ok(self.point_plain(prog, k)?),
        }
    }

    /// Unit `k`'s point (async program of a [`Plain`] error).
    pub async fn point_async_plain(&self, prog: &Program, k: usize) -> Result<(), BodyError> {
        if let Some(Step::Point { id, point: Point::Yield(n) }) = step(prog, k) {
            self.j.note(format!("b{id}"));
            for _ in 0..*n {
                Yield(false).await;
            }
            return Ok(());
        }
        self.point_plain(prog, k)
    }

    /// Unit `k`'s point or nested construct (async program).
    pub fn point_async<'a>(&'a self, prog: &'a Program, k: usize) -> AsyncFuture<'a, ()> {
        Box::pin(async move {
            match step(prog, k) {
                Some(Step::Scope(sub)) => self.program(sub).await.map(drop),
                Some(Step::Stack(st)) => self.stack_async(st).await,
                _ => Ok(self.point_async_plain(prog, k).await?),
            }
        })
    }

    /// Runs a program of either flavor as a future.
    pub fn program<'a>(&'a self, prog: &'a Program) -> AsyncFuture<'a> {
        match (prog.flavor, prog.error, prog.split_frames) {
            (Flavor::Sync, ScopeError::Managed, _) => Box::pin(async move { sync_program(self, prog) }),
            (Flavor::Sync, ScopeError::Plain, _) => {
                Box::pin(async move { sync_program_plain(self, prog).map_err(Error::new) })
            }
            (Flavor::Async, ScopeError::Plain, _) => {
                Box::pin(async move { async_program_plain(self, prog).await.map_err(Error::new) })
            }
            (Flavor::Async, ScopeError::Managed, false) => Box::pin(async_program_one_frame(self, prog)),
            (Flavor::Async, ScopeError::Managed, true) => Box::pin(async_program_frame_per_unit(self, prog)),
        }
    }

    // ------------------------------------------------------------ stacks

    fn stack_sync(&self, st: &StackPlan) -> Result<(), Error> {
        match st.how {
            StackUse::Managed => managed_stack(self, st).map(drop),
            StackUse::Dropped => {
                let stack = ExitStack::new();
                self.fill(&stack, &st.entries)?;
                sync_program(self, &st.body).map(drop)
            }
            StackUse::Run => {
                let ran = ExitStack::new().run(|stack| {
                    self.fill(stack, &st.entries)?;
                    sync_program(self, &st.body)
                })?;
                self.after_run(ran);
                Ok(())
            }
        }
    }

    async fn stack_async(&self, st: &StackPlan) -> Result<(), Error> {
        match (st.flavor, st.how) {
            (Flavor::Sync, StackUse::Managed) => scope!(async {
                let stack = with!(ExitStack::new())?;
                self.fill(stack, &st.entries)?;
                self.program(&st.body).await
            })
            .await
            .map(drop),
            (Flavor::Sync, StackUse::Dropped) => {
                let stack = ExitStack::new();
                self.fill(&stack, &st.entries)?;
                self.program(&st.body).await.map(drop)
            }
            (Flavor::Sync, StackUse::Run) => self.stack_sync(st),
            (Flavor::Async, _) if st.send => send_stack(self, st).await,
            (Flavor::Async, _) => local_stack(self, st).await,
        }
    }

    /// `None` from a stack's `run`: an exit suppressed the body's error,
    /// and the program goes on.
    fn after_run(&self, ran: Option<u32>) {
        if ran.is_none() {
            self.j.note("suppressed");
        }
    }

    fn push_exit(&self, id: usize, act: PushAct) -> impl FnOnce(&Outcome<'_>) -> Result<bool, Error> + 'static {
        let j = self.j.clone();
        move |o| {
            j.note(format!("s{id} saw {:?}", Seen::of(o)));
            push_result(id, act)
        }
    }

    fn callback(&self, id: usize, panics: bool) -> impl FnOnce() + 'static {
        let j = self.j.clone();
        move || {
            j.note(format!("s{id}"));
            if panics {
                std::panic::panic_any(callback_panic(id));
            }
        }
    }

    /// Registers `entries` on a sync stack, stopping at a failed enter.
    pub fn fill(&self, stack: &ExitStack<'_>, entries: &[Entry]) -> Result<(), Error> {
        for e in entries {
            match e {
                Entry::Enter(p, Mode::SyncFn) => {
                    stack.enter(via_fn(self.probe(p)))?;
                }
                Entry::Enter(p, _) => {
                    stack.enter(self.probe(p))?;
                }
                Entry::Push { id, act, .. } => stack.push(self.push_exit(*id, *act)),
                Entry::Callback { id, panics, .. } => stack.callback(self.callback(*id, *panics)),
                Entry::Stack(inner) => {
                    let nested = stack.enter(ExitStack::new())?;
                    self.fill(nested, inner)?;
                }
            }
        }
        Ok(())
    }

    /// Registers `entries` on an async stack, stopping at a failed enter.
    pub fn fill_async<'a, S: AsyncStack>(&'a self, stack: &'a S, entries: &'a [Entry]) -> AsyncFuture<'a, ()> {
        Box::pin(async move {
            for e in entries {
                match e {
                    Entry::Enter(p, Mode::Async) => stack.enter_awaited(self.probe(p)).await?,
                    Entry::Enter(p, Mode::Sync) => stack.enter_now(self.probe(p))?,
                    Entry::Enter(p, Mode::SyncFn) => stack.enter_now(via_fn(self.probe(p)))?,
                    Entry::Enter(p, Mode::AsyncFn) => stack.enter_async_fn(self.probe(p)).await?,
                    Entry::Push { id, act, awaits: false } => stack.push_now(self.push_exit(*id, *act)),
                    Entry::Push { id, act, awaits: true } => {
                        let (id, act, j) = (*id, *act, self.j.clone());
                        stack.push_awaited(move |o: &Outcome<'_>| {
                            j.note(format!("s{id} saw {:?}", Seen::of(o)));
                            async move {
                                Yield(false).await;
                                push_result(id, act)
                            }
                        });
                    }
                    Entry::Callback { id, panics, awaits: false } => stack.callback_now(self.callback(*id, *panics)),
                    Entry::Callback { id, panics, awaits: true } => {
                        let (id, panics, j) = (*id, *panics, self.j.clone());
                        stack.callback_awaited(move || {
                            j.note(format!("s{id}"));
                            async move {
                                Yield(false).await;
                                if panics {
                                    std::panic::panic_any(callback_panic(id));
                                }
                            }
                        });
                    }
                    Entry::Stack(inner) => self.fill_async(stack.nested().await?, inner).await?,
                }
            }
            Ok(())
        })
    }
}

/// What `fill_async` does with an async stack: `AsyncExitStack` and
/// `SendAsyncExitStack` alike (what they register is `Send` for both).
pub trait AsyncStack {
    /// `enter`: a sync manager.
    fn enter_now<M: Manage<Error = ProbeError> + Send + 'static>(&self, manager: M) -> Result<(), ProbeError>;
    /// `enter_async`: the probe as an async manager.
    async fn enter_awaited(&self, probe: Probe) -> Result<(), ProbeError>;
    /// `enter_async`: the probe inside a `#[managed] async fn`.
    async fn enter_async_fn(&self, probe: Probe) -> Result<(), ProbeError>;
    fn push_now(&self, exit: impl FnOnce(&Outcome<'_>) -> Result<bool, Error> + Send + 'static);
    fn push_awaited<F: Future<Output = Result<bool, Error>> + Send + 'static>(
        &self,
        exit: impl FnOnce(&Outcome<'_>) -> F + Send + 'static,
    );
    fn callback_now(&self, f: impl FnOnce() + Send + 'static);
    fn callback_awaited<F: Future<Output = ()> + Send + 'static>(&self, f: impl FnOnce() -> F + Send + 'static);
    /// A stack of the same kind entered into this one.
    async fn nested(&self) -> Result<&Self, Error>;
}

/// [`AsyncStack`] for `$stack`, whose target is `Entered<$stack>`.
macro_rules! async_stack {
    ($stack:ident) => {
        impl<'a> AsyncStack for $stack<'a> {
            fn enter_now<M: Manage<Error = ProbeError> + Send + 'static>(&self, manager: M) -> Result<(), ProbeError> {
                self.enter(manager).map(drop)
            }
            async fn enter_awaited(&self, probe: Probe) -> Result<(), ProbeError> {
                self.enter_async(probe).await.map(drop)
            }
            async fn enter_async_fn(&self, probe: Probe) -> Result<(), ProbeError> {
                async_stack!(@async_fn $stack self probe)
            }
            fn push_now(&self, exit: impl FnOnce(&Outcome<'_>) -> Result<bool, Error> + Send + 'static) {
                self.push(exit);
            }
            fn push_awaited<F: Future<Output = Result<bool, Error>> + Send + 'static>(
                &self,
                exit: impl FnOnce(&Outcome<'_>) -> F + Send + 'static,
            ) {
                self.push_async(exit);
            }
            fn callback_now(&self, f: impl FnOnce() + Send + 'static) {
                self.callback(f);
            }
            fn callback_awaited<F: Future<Output = ()> + Send + 'static>(&self, f: impl FnOnce() -> F + Send + 'static) {
                self.callback_async(f);
            }
            async fn nested(&self) -> Result<&Self, Error> {
                let entered: &mut Entered<$stack<'a>> = self.enter_async($stack::new()).await?;
                Ok(entered)
            }
        }
    };
    (@async_fn AsyncExitStack $this:ident $probe:ident) => {
        $this.enter_async(via_async_fn($probe)).await.map(drop)
    };
    (@async_fn SendAsyncExitStack $this:ident $probe:ident) => {{
        let _ = ($this, $probe);
        unreachable!("not drawn: a `#[managed] async fn` is not a `SendAsyncManage`")
    }};
}

use managed::exit_stack::Entered;

async_stack!(AsyncExitStack);
async_stack!(SendAsyncExitStack);

fn push_result(id: usize, act: PushAct) -> Result<bool, Error> {
    match act {
        PushAct::Keep => Ok(false),
        PushAct::Suppress => Ok(true),
        _ => act_failure(push_failure(id, act)).map(|()| false),
    }
}

/// An async stack of type `$stack` used as `st.how` says.
macro_rules! async_stack_use {
    ($name:ident, $stack:ident) => {
        async fn $name(ctx: &Ctx, st: &StackPlan) -> Result<(), Error> {
            match st.how {
                StackUse::Managed => scope!(async {
                    let stack = with!($stack::new())?;
                    ctx.fill_async(&**stack, &st.entries).await?;
                    ctx.program(&st.body).await
                })
                .await
                .map(drop),
                StackUse::Dropped => {
                    let stack = $stack::new();
                    ctx.fill_async(&stack, &st.entries).await?;
                    ctx.program(&st.body).await.map(drop)
                }
                StackUse::Run => {
                    let ran = $stack::new()
                        .run(async |stack: &$stack<'_>| {
                            ctx.fill_async(stack, &st.entries).await?;
                            ctx.program(&st.body).await
                        })
                        .await?;
                    ctx.after_run(ran);
                    Ok(())
                }
            }
        }
    };
}

async_stack_use!(local_stack, AsyncExitStack);
async_stack_use!(send_stack, SendAsyncExitStack);

fn managed_stack(ctx: &Ctx, st: &StackPlan) -> Result<u32, Error> {
    scope! {
        let stack = with!(ExitStack::new())?;
        ctx.fill(stack, &st.entries)?;
        sync_program(ctx, &st.body)
    }
}

/// Whether unit `k` returns.
pub fn returns(prog: &Program, k: usize) -> bool {
    matches!(step(prog, k), Some(Step::Point { point: Point::Return, .. }))
}

/// Whether unit `k` returns from inside a macro.
pub fn hides_return(prog: &Program, k: usize) -> bool {
    matches!(step(prog, k), Some(Step::Point { point: Point::HiddenReturn, .. }))
}

/// The error unit `k` returns.
pub fn returned(prog: &Program, k: usize) -> BodyError {
    match step(prog, k) {
        Some(Step::Point { id, .. }) => BodyError(body_error(*id)),
        _ => unreachable!("only a point returns"),
    }
}

/// An error of the body: its own (`body error bN`), or a hand-entered
/// guard's.
#[derive(Debug)]
pub struct BodyError(String);

impl From<ProbeError> for BodyError {
    fn from(e: ProbeError) -> Self {
        BodyError(e.to_string())
    }
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BodyError {}

/// A scope error type that is not `managed::Error`: it cannot hold
/// suppressed errors, so the scope sends them to the hook. Its `Debug` is
/// its message (what `Seen` shows of an error type it does not know).
pub struct Plain(String);

impl std::fmt::Debug for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Plain {}

impl From<ProbeError> for Plain {
    fn from(e: ProbeError) -> Self {
        Plain(e.to_string())
    }
}

impl From<BodyError> for Plain {
    fn from(e: BodyError) -> Self {
        Plain(e.0)
    }
}

macro_rules! hidden_return {
    ($error:expr) => {
        return Err($error)
    };
}

macro_rules! sync_program {
    ($name:ident -> $error:ty, $point:ident [$($k:literal)*]) => {
        /// A sync program: one unit per possible statement.
        pub fn $name(ctx: &Ctx, prog: &Program) -> Result<u32, $error> {
            scope! {
                $(
                    let _checked = with!(ctx.checked_sync(prog, $k))?;
                    let _checked_fn = with!(ctx.checked_fn(prog, $k))?;
                    let unchecked = with!(ctx.unchecked_sync(prog, $k));
                    ctx.inspect::<$error>(prog, $k, unchecked.map(drop))?;
                    defer! { ctx.defer(prog, $k, Form::Always, None) }
                    defer!(ok => ctx.defer(prog, $k, Form::Ok, None));
                    defer!(err => ctx.defer(prog, $k, Form::Err, None));
                    defer!(panic => ctx.defer(prog, $k, Form::Panic, None));
                    defer!(|o| ctx.defer(prog, $k, Form::Closure, Some(o)));
                    ctx.$point(prog, $k)?;
                    if returns(prog, $k) {
                        return Err(returned(prog, $k).into());
                    }
                    if hides_return(prog, $k) {
                        hidden_return!(returned(prog, $k).into());
                    }
                )*
                Ok(7)
            }
        }
    };
}

sync_program!(sync_program -> Error, point [0 1 2 3 4 5]);
sync_program!(sync_program_plain -> Plain, point_plain [0 1 2 3 4 5]);

macro_rules! async_program {
    ($name:ident -> $error:ty, $point:ident [$( ($($unit_start:tt)*) $k:literal )*]) => {
        /// An async program: one unit per possible statement.
        pub async fn $name(ctx: &Ctx, prog: &Program) -> Result<u32, $error> {
            scope!(async {
                $(
                    $($unit_start)*
                    let _checked = with!(ctx.checked_async(prog, $k))?;
                    let _checked_sync = with!(ctx.checked_sync(prog, $k))?;
                    let _checked_fn = with!(ctx.checked_fn(prog, $k))?;
                    let _checked_async_fn = with!(ctx.checked_async_fn(prog, $k))?;
                    let unchecked = with!(ctx.unchecked_async(prog, $k));
                    ctx.inspect::<$error>(prog, $k, unchecked.map(drop))?;
                    let unchecked_sync = with!(ctx.unchecked_sync(prog, $k));
                    ctx.inspect::<$error>(prog, $k, unchecked_sync.map(drop))?;
                    defer! { ctx.defer(prog, $k, Form::Always, None) }
                    defer!(ok => ctx.defer(prog, $k, Form::Ok, None));
                    defer!(err => ctx.defer(prog, $k, Form::Err, None));
                    defer!(panic => ctx.defer(prog, $k, Form::Panic, None));
                    defer!(|o| ctx.defer(prog, $k, Form::Closure, Some(o)));
                    defer!(async { ctx.defer_async(prog, $k, Form::Async).await });
                    defer!(ok => async { ctx.defer_async(prog, $k, Form::OkAsync).await });
                    defer!(err => async { ctx.defer_async(prog, $k, Form::ErrAsync).await });
                    defer!(panic => async { ctx.defer_async(prog, $k, Form::PanicAsync).await });
                    ctx.$point(prog, $k).await?;
                    if returns(prog, $k) {
                        return Err(returned(prog, $k).into());
                    }
                    if hides_return(prog, $k) {
                        hidden_return!(returned(prog, $k).into());
                    }
                )*
                Ok(7)
            })
            .await
        }
    };
}

async_program!(async_program_one_frame -> Error, point_async [() 0 () 1 () 2 () 3 () 4 () 5]);
// A local before each unit: each unit starts a frame of its own.
async_program!(async_program_frame_per_unit -> Error, point_async [
    (let _unit = unit(0);) 0 (let _unit = unit(1);) 1 (let _unit = unit(2);) 2
    (let _unit = unit(3);) 3 (let _unit = unit(4);) 4 (let _unit = unit(5);) 5
]);
async_program!(async_program_plain -> Plain, point_async_plain [() 0 () 1 () 2 () 3 () 4 () 5]);

/// A local that starts a unit's frame.
fn unit(k: usize) -> usize {
    k
}

// ---------------------------------------------------------------- structs

/// A struct's exit hook: notes what it saw, then does its act.
pub struct Hook {
    j: Journal,
    id: usize,
    act: Act,
}

impl Hook {
    fn run(&self, outcome: &Outcome<'_>) -> Result<(), Error> {
        self.j.note(format!("hook h{} saw {:?}", self.id, Seen::of(outcome)));
        act_failure(hook_failure(self.id, self.act))
    }
}

trait Hooked {
    fn hook(&self) -> &Hook;
}

fn struct_hook<S: Hooked>(this: &mut S, outcome: &Outcome<'_>) -> Result<(), Error> {
    this.hook().run(outcome)
}

impl Ctx {
    fn hook(&self, s: &StructPlan) -> Hook {
        Hook { j: self.j.clone(), id: s.hook.0, act: s.hook.1 }
    }
}

/// `#[managed]` structs of `N` probe fields (`(async)` marks the async
/// ones) and an exit hook, entered with one `with!` in a scope of the
/// struct's flavor whose body is the plan's program.
macro_rules! struct_scopes {
    ($run:ident $flavor:ident; $($ty:ident $fn_name:ident => [$($field:ident $i:literal $(($mark:tt))?)*];)*) => {
        $(
            #[managed(exit = struct_hook)]
            struct $ty {
                $( #[managed $(($mark))?] $field: Probe, )*
                hook: Hook,
            }
            impl Hooked for $ty {
                fn hook(&self) -> &Hook {
                    &self.hook
                }
            }
            struct_scopes!(@scope $flavor $ty $fn_name [$($field $i)*]);
        )*
        pub fn $run<'a>(ctx: &'a Ctx, s: &'a StructPlan) -> AsyncFuture<'a> {
            match s.fields.len() {
                $( n if n == [$($i),*].len() => struct_scopes!(@call $flavor $fn_name(ctx, s)), )*
                n => unreachable!("structs have 1..=8 fields, not {n}"),
            }
        }
    };
    (@scope Sync $ty:ident $fn_name:ident [$($field:ident $i:literal)*]) => {
        fn $fn_name(ctx: &Ctx, s: &StructPlan) -> Result<u32, Error> {
            scope! {
                let _all = with!($ty { $( $field: Slot::new(ctx.probe(&s.fields[$i])), )* hook: ctx.hook(s) })?;
                sync_program(ctx, &s.body)
            }
        }
    };
    (@scope Async $ty:ident $fn_name:ident [$($field:ident $i:literal)*]) => {
        async fn $fn_name(ctx: &Ctx, s: &StructPlan) -> Result<u32, Error> {
            scope!(async {
                let _all = with!($ty { $( $field: Slot::new(ctx.probe(&s.fields[$i])), )* hook: ctx.hook(s) })?;
                ctx.program(&s.body).await
            })
            .await
        }
    };
    (@call Sync $fn_name:ident($ctx:ident, $s:ident)) => { Box::pin(async move { $fn_name($ctx, $s) }) };
    (@call Async $fn_name:ident($ctx:ident, $s:ident)) => { Box::pin($fn_name($ctx, $s)) };
}

struct_scopes! { run_sync_struct Sync;
    S1 sync_struct1 => [a 0];
    S2 sync_struct2 => [a 0 b 1];
    S3 sync_struct3 => [a 0 b 1 c 2];
    S4 sync_struct4 => [a 0 b 1 c 2 d 3];
    S5 sync_struct5 => [a 0 b 1 c 2 d 3 e 4];
    S6 sync_struct6 => [a 0 b 1 c 2 d 3 e 4 f 5];
    S7 sync_struct7 => [a 0 b 1 c 2 d 3 e 4 f 5 g 6];
    S8 sync_struct8 => [a 0 b 1 c 2 d 3 e 4 f 5 g 6 h 7];
}

struct_scopes! { run_async_struct Async;
    A1 async_struct1 => [a 0 (async)];
    A2 async_struct2 => [a 0 (async) b 1 (async)];
    A3 async_struct3 => [a 0 (async) b 1 (async) c 2 (async)];
    A4 async_struct4 => [a 0 (async) b 1 (async) c 2 (async) d 3 (async)];
    A5 async_struct5 => [a 0 (async) b 1 (async) c 2 (async) d 3 (async) e 4 (async)];
    A6 async_struct6 => [a 0 (async) b 1 (async) c 2 (async) d 3 (async) e 4 (async) f 5 (async)];
    A7 async_struct7 => [a 0 (async) b 1 (async) c 2 (async) d 3 (async) e 4 (async) f 5 (async) g 6 (async)];
    A8 async_struct8 => [a 0 (async) b 1 (async) c 2 (async) d 3 (async) e 4 (async) f 5 (async) g 6 (async) h 7 (async)];
}

// The odd fields sync (`StructPlan::mixed`).
struct_scopes! { run_mixed_struct Async;
    M1 mixed_struct1 => [a 0 (async)];
    M2 mixed_struct2 => [a 0 (async) b 1];
    M3 mixed_struct3 => [a 0 (async) b 1 c 2 (async)];
    M4 mixed_struct4 => [a 0 (async) b 1 c 2 (async) d 3];
    M5 mixed_struct5 => [a 0 (async) b 1 c 2 (async) d 3 e 4 (async)];
    M6 mixed_struct6 => [a 0 (async) b 1 c 2 (async) d 3 e 4 (async) f 5];
    M7 mixed_struct7 => [a 0 (async) b 1 c 2 (async) d 3 e 4 (async) f 5 g 6 (async)];
    M8 mixed_struct8 => [a 0 (async) b 1 c 2 (async) d 3 e 4 (async) f 5 g 6 (async) h 7];
}

/// Runs a plan: the future of its construct (a sync construct runs, to
/// its end, when the future is first polled).
pub fn run<'a>(ctx: &'a Ctx, top: &'a Top) -> AsyncFuture<'a> {
    match top {
        Top::Program(p) => ctx.program(p),
        Top::Stack(st) => match st.flavor {
            Flavor::Sync => Box::pin(async move {
                let ran = ExitStack::new().run(|stack| {
                    ctx.fill(stack, &st.entries)?;
                    sync_program(ctx, &st.body)
                })?;
                Ok(ran.unwrap_or(0))
            }),
            Flavor::Async if st.send => Box::pin(async move {
                let ran = SendAsyncExitStack::new()
                    .run(async |stack: &SendAsyncExitStack<'_>| {
                        ctx.fill_async(stack, &st.entries).await?;
                        ctx.program(&st.body).await
                    })
                    .await?;
                Ok(ran.unwrap_or(0))
            }),
            Flavor::Async => Box::pin(async move {
                let ran = AsyncExitStack::new()
                    .run(async |stack: &AsyncExitStack<'_>| {
                        ctx.fill_async(stack, &st.entries).await?;
                        ctx.program(&st.body).await
                    })
                    .await?;
                Ok(ran.unwrap_or(0))
            }),
        },
        Top::Struct(s) => match (s.flavor, s.mixed) {
            (Flavor::Sync, _) => run_sync_struct(ctx, s),
            (Flavor::Async, false) => run_async_struct(ctx, s),
            (Flavor::Async, true) => run_mixed_struct(ctx, s),
        },
    }
}
