"""Runs the plans written by tests/fault_matrix.rs (cross_check_with_cpython)
through CPython's contextlib.ExitStack and checks that the same enters and
exits ran, in the same order, each exit saw a failure exactly when ours did,
and the run failed exactly when ours did.

The *choice* of error differs by design (Python reports the latest
exception, managed the first, with the rest suppressed): that is checked
against DESIGN.md's rule by the oracle in fault_matrix.rs, not here.
Usage: python3 contextlib_crosscheck.py PLANS.jsonl
"""
import json
import sys
from contextlib import ExitStack


class ProbeError(Exception):
    """A probe's scripted failure (managed: an Err)."""


class ProbePanic(BaseException):
    """A probe's scripted panic (managed: a panic)."""


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
    journal = []
    try:
        with ExitStack() as stack:
            for i, (enter, exit_) in enumerate(plan["probes"]):
                stack.enter_context(Probe(i, enter, exit_, journal))
            journal.append("body")
            if plan["body"] == "error":
                raise ProbeError("body")
            if plan["body"] == "panic":
                raise ProbePanic("body")
        failed = False
    except BaseException:  # noqa: BLE001 - every failure counts, as a panic does
        failed = True
    return journal, failed


def main(path):
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
        print(f"plan {plan['probes']} body={plan['body']}")
        print(f"  managed: {plan['journal']} failed={plan['failed']}")
        print(f"  CPython: {journal} failed={failed}")
    if disagreements:
        print(f"{len(disagreements)} of {count} plans disagree")
        return 1
    print(f"{count} plans agree with CPython's ExitStack")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
