"""Runs the plans written by tests/exit_stack_crosscheck.rs through CPython's
contextlib.ExitStack and checks that the same exits ran, in the same order,
each saw a failure exactly when ours did, and the run failed exactly when
ours did.

One difference is by design (DESIGN.md section 3: a panic is never
suppressed, and stays the outcome until it resumes) and is modelled here: the
exit standing for "suppress" returns True only when no ProbePanic has been
raised in the run. (The exception's __context__ chain cannot tell: ExitStack
leaves it None when a callback raises outside an except block.) Which failure is primary differs too (Python: the
latest; managed: the first); that is checked by the oracle in the Rust test.

Only `with ExitStack()` is compared (managed: ExitStack::run). A stack that is
never closed runs no exit in CPython, not even when it is collected; managed's
stack dropped unclosed runs its exits with Outcome::Cancelled (a panic while
unwinding), so there is nothing here to compare it with
(tests/exit_stack_drop.rs checks it).
Usage: python3 exit_stack_crosscheck.py PLANS.jsonl
"""
import sys

# The shared module sits next to this script; keep tests/ free of __pycache__.
sys.dont_write_bytecode = True
from crosscheck_common import ProbeError, ProbePanic, check_plans, run_in_exit_stack


def make_exit(index, act, journal, state):
    def exit_(exc_type, exc, tb):
        journal.append(f"exit {index} {'ok' if exc_type is None else 'failure'}")
        if act == "Fail":
            raise ProbeError(index)
        if act == "Panic":
            state["panicked"] = True
            raise ProbePanic(index)
        if act == "Suppress":
            return not state["panicked"]
        return False

    return exit_


def run(plan):
    state = {"panicked": False}

    def register(stack, journal):
        for i, act in enumerate(plan["acts"]):
            stack.push(make_exit(i, act, journal, state))

    def on_panic():
        state["panicked"] = True

    return run_in_exit_stack(register, plan["body"], on_panic)


if __name__ == "__main__":
    sys.exit(check_plans(sys.argv[1], run, lambda plan: f"body={plan['body']} exits={plan['acts']}"))
