//! What the matrix draws: a plan for one run of one construct, and what
//! every part of it does (fail, panic, suppress, await, end the body).
//!
//! A plan is data; the macros are fixed (`run.rs`): each statement of a
//! [`Program`] is one *unit* of a `scope!` written with every construct the
//! contract names, of which the plan switches on one.

use managed::testing::{Act, Event, Seen};
use proptest::prelude::*;

/// Statements a program may have: the number of units in its `scope!`.
pub const UNITS: usize = 6;

/// A sync or an async construct (or program).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Sync,
    Async,
}

/// How a probe is entered: as an async manager (its enter and exit each
/// await once), or as a sync one (`Manage` only: in an async scope the
/// macro wraps it, a stack calls `enter`; no awaits), or through a
/// `#[managed]` fn with `yield_!` that enters the probe before the yield
/// and exits it after (sync, or async: a coroutine, whose cancelled exit
/// is the code after the yield polled once, not the probe's
/// `exit_cancelled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Async,
    Sync,
    SyncFn,
    AsyncFn,
}

impl Mode {
    /// Its enter and exit each await once.
    pub fn awaits(self) -> bool {
        matches!(self, Mode::Async | Mode::AsyncFn)
    }
}

/// One `testing::Probe`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbePlan {
    /// Its name is `p{id}`.
    pub id: usize,
    pub enter: Act,
    pub exit: Act,
    /// `Probe::pending_when_cancelled` (async probes).
    pub pending_when_cancelled: usize,
    /// `Probe::override_exit_cancelled` (async probes).
    pub override_cancel: bool,
}

/// What the body does with the result of a `with!` without `?`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inspect {
    /// `let _ = ..`: a failed enter is the body's business, and it drops it.
    Ignore,
    /// Writes the error to the journal and goes on.
    Note,
    /// Returns it with `?` (a statement later than the `with!`).
    Propagate,
}

/// The `defer!` forms of DESIGN section 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `defer! { .. }`
    Always,
    /// `defer!(ok => ..)`
    Ok,
    /// `defer!(err => ..)`
    Err,
    /// `defer!(panic => ..)`
    Panic,
    /// `defer!(|outcome| ..)`
    Closure,
    /// `defer!(async { .. })`
    Async,
    /// `defer!(ok => async { .. })`
    OkAsync,
    /// `defer!(err => async { .. })`
    ErrAsync,
    /// `defer!(panic => async { .. })`
    PanicAsync,
}

impl Form {
    pub const SYNC: [Form; 5] = [Form::Always, Form::Ok, Form::Err, Form::Panic, Form::Closure];
    pub const ASYNC: [Form; 4] = [Form::Async, Form::OkAsync, Form::ErrAsync, Form::PanicAsync];

    pub fn is_async(self) -> bool {
        Form::ASYNC.contains(&self)
    }

    /// Whether the form runs for an outcome (DESIGN section 4: `err` is an
    /// error or a panic).
    pub fn runs_for(self, seen: &Seen) -> bool {
        match self {
            Form::Always | Form::Closure | Form::Async => true,
            Form::Ok | Form::OkAsync => *seen == Seen::Ok,
            Form::Err | Form::ErrAsync => matches!(seen, Seen::Err(_) | Seen::Panic(_)),
            Form::Panic | Form::PanicAsync => matches!(seen, Seen::Panic(_)),
        }
    }
}

/// A point of the body: it notes `b{id}`, then goes on or leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    /// Goes on.
    Pass,
    /// `Err(..)?`
    Question,
    /// `return Err(..)`
    Return,
    /// A `return Err(..)` hidden in a macro.
    HiddenReturn,
    /// `panic_any(..)`
    Panic,
    /// Awaits this many times (async), then goes on.
    Yield(usize),
}

/// One statement of a program.
#[derive(Clone, Debug)]
pub enum Step {
    /// `let _ = with!(probe)?;`
    With { probe: ProbePlan, mode: Mode },
    /// `let r = with!(probe);` and the body inspects `r` in the next statement.
    Unchecked { probe: ProbePlan, mode: Mode, then: Inspect },
    /// A `defer!` of the given form; it notes `d{id}` (`d{id} saw ..` for
    /// the closure form), awaits once if async, and panics if told to.
    Defer { id: usize, form: Form, panics: bool },
    /// A point of the body.
    Point { id: usize, point: Point },
    /// A `managed::Guard` over a probe, entered by hand, then exited with
    /// `Outcome::Ok` (`exits`) or dropped (its exit sees `Cancelled`, a
    /// failure goes to the hook as `GuardDropped`).
    Guard { probe: ProbePlan, exits: bool },
    /// A block holding a `defer!` drop guard (outside any scope's top
    /// level): `defer! { .. }`, or `defer!(panic => ..)` when `on_panic`;
    /// then point `b{point}` ends the block as `end` says (`Pass`,
    /// `Question` or `Panic`). The guard notes `g{guard}`; a panic guard
    /// may panic (`panics`), which is caught and reported, since it runs
    /// while a panic unwinds.
    Block { guard: usize, on_panic: bool, panics: bool, point: usize, end: Point },
    /// A nested scope (its own flavor: a sync scope may run inside an
    /// async one); its result goes through `?`.
    Scope(Program),
    /// A nested stack, its result through `?`.
    Stack(StackPlan),
}

/// The error type of a program's scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeError {
    /// `managed::Error`: later failures are attached to the first.
    Managed,
    /// An error type that cannot hold them: they go to the hook
    /// (`SuppressedNotAttached`). Its programs nest nothing.
    Plain,
}

/// The statements of one `scope!`, then `Ok(7)`.
#[derive(Clone, Debug)]
pub struct Program {
    pub flavor: Flavor,
    pub error: ScopeError,
    /// Async: a `let` starts each unit, so that each unit is a frame of its
    /// own (ARCHITECTURE.md, "How `scope!(async ..)` expands"); otherwise
    /// the whole scope is one frame.
    pub split_frames: bool,
    pub steps: Vec<Step>,
}

/// How a nested stack is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackUse {
    /// `with!(ExitStack::new())?` (or `AsyncExitStack`) in a small scope
    /// whose body fills it and runs the stack's program.
    Managed,
    /// `ExitStack::new().run(|stack| ..)?` (or `AsyncExitStack`): filled,
    /// then the program runs in the body; `None` (an exit suppressed the
    /// body's error) notes `suppressed` and goes on.
    Run,
    /// A local stack, filled, then the program runs, and the stack is
    /// dropped unclosed however that ends (its exits see `Cancelled`, or a
    /// panic while unwinding).
    Dropped,
}

/// A stack: `flavor` says `ExitStack` or `AsyncExitStack` (with `send`,
/// `SendAsyncExitStack`: the same rules, its own code path).
#[derive(Clone, Debug)]
pub struct StackPlan {
    pub how: StackUse,
    pub flavor: Flavor,
    pub send: bool,
    /// Registered in order, in the stack's body, before its program.
    pub entries: Vec<Entry>,
    pub body: Program,
}

/// What an exit function pushed on a stack returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushAct {
    /// `Ok(false)`
    Keep,
    /// `Ok(true)`: suppresses the current error.
    Suppress,
    /// `Err(..)`
    Fail,
    /// Panics.
    Panic,
}

/// One entry of a stack.
#[derive(Clone, Debug)]
pub enum Entry {
    /// `stack.enter(probe)?` (a sync mode) or `stack.enter_async(probe).await?`.
    Enter(ProbePlan, Mode),
    /// `stack.push(..)` / `push_async(..)`: notes `s{id} saw ..`, awaits once
    /// if async, then does `act`.
    Push { id: usize, act: PushAct, awaits: bool },
    /// `stack.callback(..)` / `callback_async(..)`: notes `s{id}`, awaits
    /// once if async, panics if told to.
    Callback { id: usize, panics: bool, awaits: bool },
    /// A stack of the same kind entered into this one as a manager, then
    /// filled with these entries.
    Stack(Vec<Entry>),
}

/// A `#[managed]` struct of probe fields with an exit hook, entered with
/// one `with!` in a scope whose body is `body`.
#[derive(Clone, Debug)]
pub struct StructPlan {
    pub flavor: Flavor,
    /// Async: the odd fields are sync managers (`Shape::MIXED` before).
    pub mixed: bool,
    pub fields: Vec<ProbePlan>,
    /// The exit hook: notes `hook h{id} saw ..`, then acts.
    pub hook: (usize, Act),
    pub body: Program,
}

impl StructPlan {
    pub fn mode(&self, field: usize) -> Mode {
        if self.flavor == Flavor::Async && !(self.mixed && field % 2 == 1) {
            Mode::Async
        } else {
            Mode::Sync
        }
    }
}

/// One run of the matrix: the construct at the top.
#[derive(Clone, Debug)]
pub enum Top {
    Program(Program),
    /// `ExitStack::run` / `AsyncExitStack::run` at the top (its `how` is `Run`).
    Stack(StackPlan),
    Struct(StructPlan),
}

impl Top {
    pub fn flavor(&self) -> Flavor {
        match self {
            Top::Program(p) => p.flavor,
            Top::Stack(s) => s.flavor,
            Top::Struct(s) => s.flavor,
        }
    }
}

// ---------------------------------------------------------------- labels

/// A probe's name.
pub fn probe_name(id: usize) -> String {
    format!("p{id}")
}

/// The journal's line for a probe's enter (`testing::Event::Enter`).
pub fn enter_event(p: &ProbePlan) -> Event {
    match p.enter {
        Act::Succeed => Event::Enter(probe_name(p.id)),
        Act::Fail | Act::Panic => Event::Enter(format!("p{} (enter failed)", p.id)),
    }
}

/// The failure text of a probe's act at `stage` (`enter` or `exit`), with
/// whether it is a panic.
pub fn probe_failure(p: &ProbePlan, stage: &str) -> Option<(String, bool)> {
    let act = if stage == "enter" { p.enter } else { p.exit };
    match act {
        Act::Succeed => None,
        Act::Fail => Some((format!("probe p{} failed at {stage}", p.id), false)),
        Act::Panic => Some((format!("probe p{} panicked at {stage}", p.id), true)),
    }
}

pub fn body_error(id: usize) -> String {
    format!("body error b{id}")
}

pub fn body_panic(id: usize) -> String {
    format!("body panicked b{id}")
}

pub fn defer_panic(id: usize) -> String {
    format!("defer d{id} panicked")
}

pub fn push_failure(id: usize, act: PushAct) -> Option<(String, bool)> {
    match act {
        PushAct::Keep | PushAct::Suppress => None,
        PushAct::Fail => Some((format!("push s{id} failed"), false)),
        PushAct::Panic => Some((format!("push s{id} panicked"), true)),
    }
}

pub fn guard_panic(id: usize) -> String {
    format!("guard g{id} panicked")
}

pub fn callback_panic(id: usize) -> String {
    format!("callback s{id} panicked")
}

pub fn hook_failure(id: usize, act: Act) -> Option<(String, bool)> {
    match act {
        Act::Succeed => None,
        Act::Fail => Some((format!("hook h{id} failed"), false)),
        Act::Panic => Some((format!("hook h{id} panicked"), true)),
    }
}

/// The failures, and the markers of an interrupted or unfinished cleanup,
/// in a report's or an error's text, in order: what a run makes visible.
/// A probe's error reads `probe pN failed at STAGE` in `Display` and
/// `ProbeError { probe: "pN", stage: Stage }` in `Debug`.
pub fn tokens(text: &str) -> Vec<String> {
    const PROBE_ERROR: &str = "ProbeError { probe: \"p";
    const MARKERS: [(&str, &str); 6] = [
        ("was cancelled while the exit of", "exit interrupted"),
        ("was cancelled while one of its async exits", "exit interrupted"),
        ("while an async `defer!` was running", "defer interrupted"),
        ("did not finish in place when the struct", "hook unfinished"),
        ("did not finish in place and was dropped", "exit unfinished"),
        ("did not finish in place when cancelled", "exit unfinished"),
    ];
    let mut found: Vec<(usize, String)> = Vec::new();
    for (needle, token) in MARKERS {
        found.extend(text.match_indices(needle).map(|(at, _)| (at, token.to_string())));
    }
    let number = |rest: &str| -> Option<(usize, usize)> {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        rest[..digits].parse().ok().map(|n| (n, digits))
    };
    for (at, _) in text.match_indices("probe p") {
        let rest = &text[at + 7..];
        if let Some((n, len)) = number(rest) {
            for what in ["failed at enter", "failed at exit", "panicked at enter", "panicked at exit"] {
                if rest[len..].starts_with(&format!(" {what}")) {
                    found.push((at, format!("probe p{n} {what}")));
                }
            }
        }
    }
    for (at, _) in text.match_indices(PROBE_ERROR) {
        let rest = &text[at + PROBE_ERROR.len()..];
        if let Some((n, len)) = number(rest) {
            for (debug, stage) in [("Enter", "enter"), ("Exit", "exit")] {
                if rest[len..].starts_with(&format!("\", stage: {debug} }}")) {
                    found.push((at, format!("probe p{n} failed at {stage}")));
                }
            }
        }
    }
    let simple: [(&str, &[&str]); 7] = [
        ("guard g", &[" panicked"]),
        ("body error b", &[""]),
        ("body panicked b", &[""]),
        ("defer d", &[" panicked"]),
        ("push s", &[" failed", " panicked"]),
        ("callback s", &[" panicked"]),
        ("hook h", &[" failed", " panicked"]),
    ];
    for (prefix, suffixes) in simple {
        for (at, _) in text.match_indices(prefix) {
            let rest = &text[at + prefix.len()..];
            if let Some((n, len)) = number(rest) {
                if let Some(suffix) = suffixes.iter().find(|s| rest[len..].starts_with(**s)) {
                    found.push((at, format!("{prefix}{n}{suffix}")));
                }
            }
        }
    }
    found.sort();
    found.into_iter().map(|(_, t)| t).collect()
}

// ---------------------------------------------------------------- strategies

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![6 => Just(Act::Succeed), 2 => Just(Act::Fail), 1 => Just(Act::Panic)]
}

/// A probe (its id is set by [`number`]).
pub fn probe(flavor: Flavor) -> BoxedStrategy<ProbePlan> {
    let cancel = match flavor {
        Flavor::Sync => Just((0, false)).boxed(),
        Flavor::Async => (prop_oneof![3 => Just(0usize), 1 => 1..=2usize], prop::bool::weighted(0.3)).boxed(),
    };
    (act(), act(), cancel)
        .prop_map(|(enter, exit, (pending_when_cancelled, override_cancel))| ProbePlan {
            id: 0,
            enter,
            exit,
            pending_when_cancelled,
            override_cancel,
        })
        .boxed()
}

/// How a `with!` without `?` enters its probe.
fn mode(flavor: Flavor) -> BoxedStrategy<Mode> {
    match flavor {
        Flavor::Sync => Just(Mode::Sync).boxed(),
        Flavor::Async => prop_oneof![2 => Just(Mode::Async), 1 => Just(Mode::Sync)].boxed(),
    }
}

/// How a `with!(..)?` or a stack enters its probe.
fn any_mode(flavor: Flavor) -> BoxedStrategy<Mode> {
    match flavor {
        Flavor::Sync => prop_oneof![3 => Just(Mode::Sync), 1 => Just(Mode::SyncFn)].boxed(),
        Flavor::Async => prop_oneof![
            4 => Just(Mode::Async),
            2 => Just(Mode::Sync),
            1 => Just(Mode::SyncFn),
            1 => Just(Mode::AsyncFn),
        ]
        .boxed(),
    }
}

fn form(flavor: Flavor) -> BoxedStrategy<Form> {
    let mut forms = Form::SYNC.to_vec();
    if flavor == Flavor::Async {
        forms.extend(Form::ASYNC);
    }
    prop::sample::select(forms).boxed()
}

fn point(flavor: Flavor) -> BoxedStrategy<Point> {
    let leave = prop_oneof![
        4 => Just(Point::Pass),
        1 => Just(Point::Question),
        1 => Just(Point::Return),
        1 => Just(Point::HiddenReturn),
        1 => Just(Point::Panic),
    ];
    match flavor {
        Flavor::Sync => leave.boxed(),
        Flavor::Async => prop_oneof![4 => leave, 1 => (1..=2usize).prop_map(Point::Yield)].boxed(),
    }
}

fn step(flavor: Flavor, depth: usize) -> BoxedStrategy<Step> {
    let with = (probe(flavor), any_mode(flavor)).prop_map(|(probe, mode)| Step::With { probe, mode });
    let inspect = prop_oneof![Just(Inspect::Ignore), Just(Inspect::Note), Just(Inspect::Propagate)];
    let unchecked =
        (probe(flavor), mode(flavor), inspect).prop_map(|(probe, mode, then)| Step::Unchecked { probe, mode, then });
    let defer =
        (form(flavor), prop::bool::weighted(0.2)).prop_map(|(form, panics)| Step::Defer { id: 0, form, panics });
    let point = point(flavor).prop_map(|point| Step::Point { id: 0, point });
    let guard = (probe(Flavor::Sync), any::<bool>()).prop_map(|(probe, exits)| Step::Guard { probe, exits });
    let end = prop_oneof![Just(Point::Pass), Just(Point::Question), Just(Point::Panic)];
    let block = (any::<bool>(), any::<bool>(), end).prop_map(|(on_panic, panics, end)| Step::Block {
        guard: 0,
        on_panic,
        // A plain drop guard that panics would drop the body's error as it
        // unwinds, or abort if the body panicked (ARCHITECTURE.md): not drawn.
        panics: panics && on_panic,
        point: 0,
        end,
    });
    if depth == 0 {
        return prop_oneof![5 => with, 2 => unchecked, 4 => defer, 3 => point, 1 => guard, 1 => block].boxed();
    }
    let nested = match flavor {
        Flavor::Sync => nested_program(Flavor::Sync, depth - 1),
        Flavor::Async => prop_oneof![
            2 => nested_program(Flavor::Async, depth - 1),
            1 => nested_program(Flavor::Sync, depth - 1),
        ]
        .boxed(),
    };
    prop_oneof![
        5 => with,
        2 => unchecked,
        4 => defer,
        3 => point,
        1 => guard,
        1 => block,
        1 => nested.prop_map(Step::Scope),
        1 => stack(flavor, depth - 1, 4).prop_map(Step::Stack),
    ]
    .boxed()
}

/// A program of 1 to `max_steps` statements, nesting up to `depth` deep.
pub fn program(flavor: Flavor, depth: usize, max_steps: usize) -> BoxedStrategy<Program> {
    (prop::collection::vec(step(flavor, depth), 1..=max_steps), any::<bool>())
        .prop_map(move |(steps, split)| Program {
            flavor,
            error: ScopeError::Managed,
            split_frames: split && flavor == Flavor::Async,
            steps,
        })
        .boxed()
}

/// A program nested in another as a scope of its own: one that nests
/// nothing may have a [`ScopeError::Plain`] error type.
fn nested_program(flavor: Flavor, depth: usize) -> BoxedStrategy<Program> {
    let error = if depth == 0 {
        prop_oneof![2 => Just(ScopeError::Managed), 1 => Just(ScopeError::Plain)].boxed()
    } else {
        Just(ScopeError::Managed).boxed()
    };
    (program(flavor, depth, 3), error)
        .prop_map(|(p, error)| Program { error, split_frames: p.split_frames && error == ScopeError::Managed, ..p })
        .boxed()
}

fn entry(flavor: Flavor, depth: usize) -> BoxedStrategy<Entry> {
    let awaits = match flavor {
        Flavor::Sync => Just(false).boxed(),
        Flavor::Async => any::<bool>().boxed(),
    };
    let push_act = prop_oneof![
        2 => Just(PushAct::Keep),
        2 => Just(PushAct::Suppress),
        1 => Just(PushAct::Fail),
        1 => Just(PushAct::Panic),
    ];
    let enter = (probe(flavor), any_mode(flavor)).prop_map(|(p, m)| Entry::Enter(p, m));
    let push = (push_act, awaits.clone()).prop_map(|(act, awaits)| Entry::Push { id: 0, act, awaits });
    let callback =
        (prop::bool::weighted(0.25), awaits).prop_map(|(panics, awaits)| Entry::Callback { id: 0, panics, awaits });
    if depth == 0 {
        return prop_oneof![4 => enter, 3 => push, 1 => callback].boxed();
    }
    let nested = prop::collection::vec(entry(flavor, depth - 1), 0..=3).prop_map(Entry::Stack);
    prop_oneof![4 => enter, 3 => push, 1 => callback, 1 => nested].boxed()
}

/// A stack used inside a program of flavor `within` (or at the top, as
/// `Run`), with up to `max_entries` entries.
pub fn stack(within: Flavor, depth: usize, max_entries: usize) -> BoxedStrategy<StackPlan> {
    // (stack, use, body): an `ExitStack::run` body is a closure, so sync;
    // a managed `ExitStack` in an async scope has an async body.
    let shapes = match within {
        Flavor::Sync => vec![
            (Flavor::Sync, StackUse::Managed, Flavor::Sync),
            (Flavor::Sync, StackUse::Run, Flavor::Sync),
            (Flavor::Sync, StackUse::Dropped, Flavor::Sync),
        ],
        // An `ExitStack` dropped unclosed in async code holds an async
        // body across its awaits: a cancellation there drops the stack.
        Flavor::Async => vec![
            (Flavor::Sync, StackUse::Managed, Flavor::Async),
            (Flavor::Sync, StackUse::Run, Flavor::Sync),
            (Flavor::Sync, StackUse::Dropped, Flavor::Async),
            (Flavor::Async, StackUse::Managed, Flavor::Async),
            (Flavor::Async, StackUse::Run, Flavor::Async),
            (Flavor::Async, StackUse::Dropped, Flavor::Async),
        ],
    };
    prop::sample::select(shapes)
        .prop_flat_map(move |(flavor, how, body)| {
            (prop::collection::vec(entry(flavor, 1), 0..=max_entries), program(body, depth, 3), send(flavor))
                .prop_map(move |(entries, body, send)| stack_plan(how, flavor, send, entries, body))
        })
        .boxed()
}

/// Async stacks are a `SendAsyncExitStack` one time in three.
fn send(flavor: Flavor) -> BoxedStrategy<bool> {
    match flavor {
        Flavor::Sync => Just(false).boxed(),
        Flavor::Async => prop::bool::weighted(1.0 / 3.0).boxed(),
    }
}

fn stack_plan(how: StackUse, flavor: Flavor, send: bool, mut entries: Vec<Entry>, body: Program) -> StackPlan {
    /// A `#[managed] async fn` is not a `SendAsyncManage`: its probe is
    /// entered as the async manager it is.
    fn sendable(entries: &mut [Entry]) {
        for e in entries {
            match e {
                Entry::Enter(_, mode) if *mode == Mode::AsyncFn => *mode = Mode::Async,
                Entry::Stack(inner) => sendable(inner),
                _ => {}
            }
        }
    }
    if send {
        sendable(&mut entries);
    }
    StackPlan { how, flavor, send, entries, body }
}

/// A top-level `ExitStack::run` / `AsyncExitStack::run` /
/// `SendAsyncExitStack::run`.
pub fn top_stack(flavor: Flavor) -> BoxedStrategy<Top> {
    (prop::collection::vec(entry(flavor, 1), 1..=8), program(flavor, 1, 3), send(flavor))
        .prop_map(move |(entries, body, send)| Top::Stack(stack_plan(StackUse::Run, flavor, send, entries, body)))
        .prop_map(number)
        .boxed()
}

/// A top-level program (one of another error type nests nothing).
pub fn top_program(flavor: Flavor) -> BoxedStrategy<Top> {
    let plain = program(flavor, 0, UNITS).prop_map(|p| Program { error: ScopeError::Plain, split_frames: false, ..p });
    prop_oneof![4 => program(flavor, 2, UNITS), 1 => plain].prop_map(Top::Program).prop_map(number).boxed()
}

/// A top-level struct of 1 to 8 fields.
pub fn top_struct(flavor: Flavor) -> BoxedStrategy<Top> {
    (prop::collection::vec(probe(flavor), 1..=8), any::<bool>(), act(), program(flavor, 1, 3))
        .prop_map(move |(fields, mixed, hook, body)| {
            Top::Struct(StructPlan { flavor, mixed: mixed && flavor == Flavor::Async, fields, hook: (0, hook), body })
        })
        .prop_map(number)
        .boxed()
}

// ---------------------------------------------------------------- ids

/// Gives every probe, defer, point, stack entry and hook its id, in plan
/// order (one counter per kind), so that every failure has its own label.
pub fn number(mut top: Top) -> Top {
    let mut ids = Ids::default();
    match &mut top {
        Top::Program(p) => ids.program(p),
        Top::Stack(s) => ids.stack(s),
        Top::Struct(s) => {
            for f in &mut s.fields {
                f.id = ids.next(0);
            }
            s.hook.0 = ids.next(4);
            ids.program(&mut s.body);
        }
    }
    top
}

#[derive(Default)]
struct Ids([usize; 6]);

impl Ids {
    fn next(&mut self, kind: usize) -> usize {
        self.0[kind] += 1;
        self.0[kind] - 1
    }

    fn program(&mut self, p: &mut Program) {
        for step in &mut p.steps {
            match step {
                Step::With { probe, .. } | Step::Unchecked { probe, .. } | Step::Guard { probe, .. } => {
                    probe.id = self.next(0);
                }
                Step::Defer { id, .. } => *id = self.next(1),
                Step::Point { id, .. } => *id = self.next(2),
                Step::Block { guard, point, .. } => {
                    *guard = self.next(5);
                    *point = self.next(2);
                }
                Step::Scope(p) => self.program(p),
                Step::Stack(s) => self.stack(s),
            }
        }
    }

    fn stack(&mut self, s: &mut StackPlan) {
        self.entries(&mut s.entries);
        self.program(&mut s.body);
    }

    fn entries(&mut self, entries: &mut [Entry]) {
        for e in entries {
            match e {
                Entry::Enter(p, _) => p.id = self.next(0),
                Entry::Push { id, .. } | Entry::Callback { id, .. } => *id = self.next(3),
                Entry::Stack(inner) => self.entries(inner),
            }
        }
    }
}

// ---------------------------------------------------------------- runs

/// How a run ended, in comparable form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    Ok(u32),
    /// The error's `Display`, and those of its suppressed errors, flattened
    /// depth first (a struct's or a stack's exit error carries the later
    /// failures of its own exits attached to it).
    Err {
        primary: String,
        suppressed: Vec<String>,
    },
    /// The panic's message (`cancelled` when the run was dropped).
    Panic(String),
}

/// What a run did, as the oracle predicts it and as the run is observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Run {
    pub journal: Vec<Event>,
    pub end: End,
    /// Every report, as (kind, token) for each failure or marker its text
    /// shows ([`tokens`]), sorted. The contract fixes which failures reach
    /// the error hook and with which kind (DESIGN section 3, section 11 and
    /// ARCHITECTURE.md's cancellation rows), not how they are grouped nor
    /// in which order: a scope reports an error with the later ones
    /// attached, a stack reports each; a composite (a struct, a stack under
    /// a scope) reports its own failures while it runs, before its owner
    /// learns that its result replaced the owner's error; a stack reports
    /// its exits' errors after a panicking body once the close ended; a
    /// dropped scope reports an interrupted exit before the exit's own
    /// construct reports what it carried. So the count of each (kind,
    /// failure) is exact and the order is not compared.
    pub reports: Vec<(String, String)>,
    /// Async runs that were not dropped: how many polls were pending.
    pub polls: Option<usize>,
    pub cancelled: bool,
}

impl Run {
    /// The failures the run makes visible (returned, resumed or reported),
    /// each as often as it is, sorted.
    pub fn visible(&self) -> Vec<String> {
        let mut out: Vec<String> = match &self.end {
            End::Ok(_) => Vec::new(),
            End::Err { primary, suppressed } => std::iter::once(primary).chain(suppressed).cloned().collect(),
            End::Panic(message) => tokens(message),
        };
        out.extend(self.reports.iter().map(|(_, token)| token.clone()).filter(|t| {
            !matches!(t.as_str(), "exit interrupted" | "defer interrupted" | "exit unfinished" | "hook unfinished")
        }));
        out.sort();
        out
    }
}
