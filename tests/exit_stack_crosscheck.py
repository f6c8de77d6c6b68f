"""Runs the plans written by tests/exit_stack_crosscheck.rs through CPython's
contextlib.ExitStack and checks that the same enters and exits ran, in the
same order, each exit saw a failure exactly when ours did, the run ended the
same way (the primary error and the suppressed ones, in order, or the panic
that resumed) and what managed reported is the rest of the exception chain.

One difference is by design (DESIGN.md section 3: a panic is never
suppressed, and stays the outcome until it resumes) and is modelled here: the
exit standing for "suppress" returns True only when no ProbePanic has been
raised in the run. Which failure is primary differs too (Python: the
latest; managed: the first): crosscheck_common.settle reads the chain from
its earliest failure.

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
from crosscheck_common import ProbeError, ProbePanic, check_plans, raise_seeing, run_in_exit_stack


def act_out(place, act, seen, state):
    """Does what `act` says at `place`, given the exception in flight."""
    if act == "Fail":
        raise_seeing(ProbeError(f"{place}-error"), seen)
    if act == "Panic":
        state["panicked"] = True
        raise_seeing(ProbePanic(f"{place}-panic"), seen)
    return act == "Suppress" and not state["panicked"]


def make_exit(index, act, journal, state):
    def exit_(exc_type, exc, tb):
        journal.append(f"exit {index} {'ok' if exc_type is None else 'failure'}")
        return act_out(f"exit{index}", act, exc, state)

    return exit_


class Probe:
    """An entered manager: its enter and its exit each do their act."""

    def __init__(self, index, enter, exit_, journal, state):
        self.index, self.enter, self.exit, self.journal, self.state = index, enter, exit_, journal, state

    def __enter__(self):
        self.journal.append(f"enter {self.index}")
        act_out(f"enter{self.index}", self.enter, None, self.state)
        return self

    def __exit__(self, exc_type, exc, tb):
        self.journal.append(f"exit {self.index} {'ok' if exc_type is None else 'failure'}")
        return act_out(f"exit{self.index}", self.exit, exc, self.state)


def run(plan):
    state = {"panicked": False}

    def register(stack, journal):
        for i, entry in enumerate(plan["entries"]):
            if entry[0] == "push":
                stack.push(make_exit(i, entry[1], journal, state))
            else:
                stack.enter_context(Probe(i, entry[1], entry[2], journal, state))

    def on_panic():
        state["panicked"] = True

    return run_in_exit_stack(register, plan["body"], on_panic)


if __name__ == "__main__":
    compared = ["journal", "end", "reports"]
    sys.exit(check_plans(sys.argv[1], run, lambda plan: f"body={plan['body']} entries={plan['entries']}", compared))
