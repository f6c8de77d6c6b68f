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
Usage: python3 exit_stack_crosscheck.py PLANS.jsonl
"""
import json
import sys
from contextlib import ExitStack


class ProbeError(Exception):
    """An exit's or the body's scripted failure (managed: an Err)."""


class ProbePanic(BaseException):
    """A scripted panic (managed: a panic)."""


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
    journal = []
    state = {"panicked": False}
    try:
        with ExitStack() as stack:
            for i, act in enumerate(plan["acts"]):
                stack.push(make_exit(i, act, journal, state))
            journal.append("body")
            if plan["body"] == "Error":
                raise ProbeError("body")
            if plan["body"] == "Panic":
                state["panicked"] = True
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
        print(f"plan body={plan['body']} exits={plan['acts']}")
        print(f"  managed: {plan['journal']} failed={plan['failed']}")
        print(f"  CPython: {journal} failed={failed}")
    if disagreements:
        print(f"{len(disagreements)} of {count} plans disagree")
        return 1
    print(f"{count} plans agree with CPython's ExitStack")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
