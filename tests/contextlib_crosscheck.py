"""Runs the plans written by tests/fault_matrix/main.rs (cross_check_with_cpython)
through CPython's contextlib.ExitStack and checks that the same enters ran
(a failed or panicking enter told apart from one that succeeded) and the same
exits, in the same order, each exit saw a failure exactly when ours did, the
run ended the same way (the primary error and the suppressed ones, in order,
or the panic that resumed) and what managed reported to the error hook is the
rest of the exception chain.

A plan is a flat scope!: probes entered with `with!(..)?`, each of which
succeeds, fails or panics at enter and at exit, then a body that succeeds,
fails or panics. Which failure is primary differs by design (Python: the
latest; managed: the first): crosscheck_common.settle reads the chain from its
earliest failure. The kinds of the reports are not compared (CPython has no
error hook): tests/fault_matrix/oracle.rs checks them against DESIGN.md.

Usage: python3 contextlib_crosscheck.py PLANS.jsonl
"""
import sys

# The shared module sits next to this script; keep tests/ free of __pycache__.
sys.dont_write_bytecode = True
from crosscheck_common import ProbeError, ProbePanic, check_plans, raise_seeing, run_in_exit_stack


def act_out(place, act, seen):
    """Does what `act` says at `place`, given the exception in flight."""
    if act == "fail":
        raise_seeing(ProbeError(f"{place}-error"), seen)
    if act == "panic":
        raise_seeing(ProbePanic(f"{place}-panic"), seen)


class Probe:
    def __init__(self, index, enter, exit_, journal):
        self.index, self.enter, self.exit, self.journal = index, enter, exit_, journal

    def __enter__(self):
        try:
            act_out(f"enter{self.index}", self.enter, None)
        except BaseException:
            self.journal.append(f"enter {self.index} failed")
            raise
        self.journal.append(f"enter {self.index}")
        return self

    def __exit__(self, exc_type, exc, tb):
        self.journal.append(f"exit {self.index} {'ok' if exc_type is None else 'failure'}")
        act_out(f"exit{self.index}", self.exit, exc)
        return False  # scope! never suppresses


def run(plan):
    def register(stack, journal):
        for i, (enter, exit_) in enumerate(plan["probes"]):
            stack.enter_context(Probe(i, enter, exit_, journal))

    return run_in_exit_stack(register, plan["body"])


if __name__ == "__main__":
    # What tests/fault_matrix/main.rs writes of each plan.
    compared = ["journal", "end", "reports"]
    sys.exit(check_plans(sys.argv[1], run, lambda plan: f"{plan['probes']} body={plan['body']}", compared))
