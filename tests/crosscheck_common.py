"""What the CPython cross-checks share (tests/contextlib_crosscheck.py for the
fault matrix, tests/exit_stack_crosscheck.py for ExitStack): the scripted
failures, one run of a plan under CPython's contextlib.ExitStack, and the
loop that compares every plan's journal and failure with ours.
"""
import json
from contextlib import ExitStack


class ProbeError(Exception):
    """A scripted failure of a probe, an exit or the body (managed: an Err)."""


class ProbePanic(BaseException):
    """A scripted panic (managed: a panic)."""


def run_in_exit_stack(register, body, on_panic=lambda: None):
    """Runs `with ExitStack() as stack:` over what `register(stack, journal)`
    registers, then a body that notes itself and ends as `body` says (ok,
    error or panic; `on_panic` runs before the body panics). Returns the
    journal and whether the run failed (any exception, as a panic counts)."""
    journal = []
    try:
        with ExitStack() as stack:
            register(stack, journal)
            journal.append("body")
            if body.lower() == "error":
                raise ProbeError("body")
            if body.lower() == "panic":
                on_panic()
                raise ProbePanic("body")
        failed = False
    except BaseException:  # noqa: BLE001 - every failure counts, as a panic does
        failed = True
    return journal, failed


def check_plans(path, run, describe):
    """Runs each plan of the JSON-lines file `path` with `run(plan) ->
    (journal, failed)` and compares with the plan's `journal` and `failed`
    (ours). Prints up to ten disagreements (`describe(plan)` names the
    plan) and returns the exit status: 0 when every plan agrees."""
    count = 0
    disagreements = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            plan = json.loads(line)
            journal, failed = run(plan)
            count += 1
            if journal != plan["journal"] or failed != plan["failed"]:
                disagreements.append((plan, journal, failed))
    for plan, journal, failed in disagreements[:10]:
        print(f"plan {describe(plan)}")
        print(f"  managed: {plan['journal']} failed={plan['failed']}")
        print(f"  CPython: {journal} failed={failed}")
    if disagreements:
        print(f"{len(disagreements)} of {count} plans disagree")
        return 1
    print(f"{count} plans agree with CPython's ExitStack")
    return 0
