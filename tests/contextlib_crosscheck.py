"""Runs the plans written by tests/fault_matrix/main.rs (cross_check_with_cpython)
through CPython's contextlib.ExitStack and checks that the same enters and
exits ran, in the same order, each exit saw a failure exactly when ours did,
and the run failed exactly when ours did.

The *choice* of error differs by design (Python reports the latest
exception, managed the first, with the rest suppressed): that is checked
against DESIGN.md's rule by the oracle in tests/fault_matrix/oracle.rs, not here.
Usage: python3 contextlib_crosscheck.py PLANS.jsonl
"""
import sys

# The shared module sits next to this script; keep tests/ free of __pycache__.
sys.dont_write_bytecode = True
from crosscheck_common import ProbeError, ProbePanic, check_plans, run_in_exit_stack


class Probe:
    def __init__(self, index, enter, exit_, journal):
        self.index, self.enter, self.exit, self.journal = index, enter, exit_, journal

    def _act(self, act):
        if act == "fail":
            raise ProbeError(self.index)
        if act == "panic":
            raise ProbePanic(self.index)

    def __enter__(self):
        self.journal.append(f"enter {self.index}")
        self._act(self.enter)
        return self

    def __exit__(self, exc_type, exc, tb):
        self.journal.append(f"exit {self.index} {'ok' if exc_type is None else 'failure'}")
        self._act(self.exit)
        return False  # scope! never suppresses


def run(plan):
    def register(stack, journal):
        for i, (enter, exit_) in enumerate(plan["probes"]):
            stack.enter_context(Probe(i, enter, exit_, journal))

    return run_in_exit_stack(register, plan["body"])


if __name__ == "__main__":
    # What tests/fault_matrix.rs writes of each plan.
    compared = ["journal", "failed"]
    sys.exit(check_plans(sys.argv[1], run, lambda plan: f"{plan['probes']} body={plan['body']}", compared))
