"""What the CPython cross-checks share (tests/contextlib_crosscheck.py for the
fault matrix, tests/exit_stack_crosscheck.py for ExitStack): the scripted
failures, one run of a plan under CPython's contextlib.ExitStack, and the
loop that compares every plan's results with ours.
"""
import json
from contextlib import ExitStack


class ProbeError(Exception):
    """A scripted failure of a probe, an exit or the body (managed: an Err)."""


class ProbePanic(BaseException):
    """A scripted panic (managed: a panic)."""


def raise_seeing(failure, seen):
    """Raises `failure` from an exit that was given `seen` (the exception in
    flight, or None). Its context is set to `seen` first: the chain then
    holds every failure since the last suppression, as managed keeps them.
    (ExitStack fixes the context itself only when the exit runs while an
    exception is handled; after a body that succeeded it would leave it None
    and lose the failures before.)"""
    failure.__context__ = seen
    raise failure


def settle(raised):
    """How a run that raised `raised` ends, in managed's terms: the chain of
    failures, earliest first, is managed's primary error then its suppressed
    ones (CPython raises the latest). With a panic in the chain, the earliest
    panic resumes and the rest are what managed reports to the error hook.
    Returns (end, reports), reports sorted."""
    chain = []
    while raised is not None:
        chain.append(str(raised))
        raised = raised.__context__
    chain.reverse()
    panics = [name for name in chain if name.endswith("-panic")]
    if not panics:
        return "error " + " +".join(chain), []
    reports = list(chain)
    reports.remove(panics[0])
    return f"panic {panics[0]}", sorted(reports)


def run_in_exit_stack(register, body, on_panic=lambda: None):
    """Runs `with ExitStack() as stack:` over what `register(stack, journal)`
    registers, then a body that notes itself and ends as `body` says (ok,
    error or panic; `on_panic` runs before the body panics). Returns the
    journal, how it ended ("ok", "suppressed", or see `settle`) and the
    reports."""
    journal = []
    block_raised = False
    try:
        with ExitStack() as stack:
            try:
                register(stack, journal)
                journal.append("body")
                if body.lower() == "error":
                    raise ProbeError("body-error")
                if body.lower() == "panic":
                    on_panic()
                    raise ProbePanic("body-panic")
            except BaseException:
                block_raised = True
                raise
        end, reports = ("suppressed" if block_raised else "ok"), []
    except BaseException as raised:  # noqa: BLE001 - every failure counts, as a panic does
        end, reports = settle(raised)
    return {"journal": journal, "end": end, "reports": reports}


def check_plans(path, run, describe, compared):
    """Runs each plan of the JSON-lines file `path` with `run(plan)` (a dict
    as `run_in_exit_stack` returns) and compares the fields named in
    `compared` with the plan's (ours). Prints up to ten disagreements
    (`describe(plan)` names the plan) and returns the exit status: 0 when
    every plan agrees."""
    count = 0
    disagreements = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            plan = json.loads(line)
            ran = run(plan)
            count += 1
            differ = [field for field in compared if ran[field] != plan[field]]
            if differ:
                disagreements.append((plan, ran, differ))
    for plan, ran, differ in disagreements[:10]:
        print(f"plan {describe(plan)}")
        for field in differ:
            print(f"  {field}: managed {plan[field]}")
            print(f"  {field}: CPython {ran[field]}")
    if disagreements:
        print(f"{len(disagreements)} of {count} plans disagree")
        return 1
    print(f"{count} plans agree with CPython's ExitStack ({', '.join(compared)})")
    return 0
