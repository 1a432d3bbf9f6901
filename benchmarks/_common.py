"""Helpers shared by ``bench_classification.py`` and ``bench_speed.py``.

Not part of the package: data loading for the benchmarks, a machine description for the
tables' headers, and a Markdown table writer.
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def data_home(value=None):
    """The data folder: ``value``, else ``$SKCOMPLEXITY_DATA``, else the package default."""
    return value or os.environ.get("SKCOMPLEXITY_DATA") or None


def routerdc_ladder(home=None, text="prompts"):
    """RouterDC's 7-model MBPP table with the models ordered weakest to strongest.

    RouterDC's models are all 7-8B open models without prices, so mean pass rate (ascending)
    stands in for cost: the weakest model is the "cheapest" rung.

    Returns
    -------
    texts : list of str
    outcomes : ndarray of shape (500, 7), pass rates, columns in ladder order
    models : list of str, ladder order
    """
    from skcomplexity.datasets import load_routerdc

    bunch = load_routerdc(data_home=home)
    outcomes = np.asarray(bunch.outcomes, dtype=float)
    order = np.argsort(outcomes.mean(axis=0), kind="stable")
    models = [bunch.models[i] for i in order]
    return list(getattr(bunch, text)), outcomes[:, order], models


def machine():
    """One line describing where the numbers were measured."""
    try:
        load = os.getloadavg()
        load_txt = f", load average at start {load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} (1/5/15 min)"
    except OSError:  # pragma: no cover - not on Linux
        load_txt = ""
    cores = os.cpu_count()
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        pass
    return (
        f"{platform.machine()} {platform.system()}, {cores} CPU cores, Python "
        f"{sys.version.split()[0]}{load_txt}; "
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}"
    )


def versions(*names):
    out = []
    for name in names:
        try:
            mod = __import__(name)
            out.append(f"{name} {getattr(mod, '__version__', '?')}")
        except ImportError:
            out.append(f"{name} (absent)")
    return ", ".join(out)


def md_table(header, rows):
    """A Markdown table from a header list and rows of already formatted cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def parse_md_tables(text):
    """Parse every Markdown table in ``text`` into a list of (header, rows); used by tests."""
    tables, current = [], None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if current is None:
                current = (cells, [])
            elif all(set(c) <= set("-: ") and c for c in cells):
                continue
            else:
                if len(cells) != len(current[0]):
                    raise ValueError(f"row width {len(cells)} != header width {len(current[0])}: {line}")
                current[1].append(cells)
        elif current is not None:
            tables.append(current)
            current = None
    if current is not None:
        tables.append(current)
    return tables
