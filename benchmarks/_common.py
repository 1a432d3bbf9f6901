"""Helpers shared by ``bench_classification.py``, ``bench_finetune.py`` and ``bench_speed.py``.

Not part of the package: data loading for the benchmarks, the cross-validation loop that scores
complexity classifiers, a machine description for the tables' headers, and a Markdown table
writer.
"""

from __future__ import annotations

import os
import platform
import sys
import time
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


def level_metrics(y, pred):
    """Accuracy, macro-F1 and within-one accuracy (|pred - true| <= 1) of ordered levels."""
    from sklearn.metrics import accuracy_score, f1_score

    y, pred = np.asarray(y), np.asarray(pred)
    return {"accuracy": accuracy_score(y, pred),
            "macro_f1": f1_score(y, pred, average="macro", zero_division=0),
            "within_one": float(np.mean(np.abs(pred - y) <= 1))}


def cross_validate_levels(models, X, levels, splits, log=print):
    """Fit a clone of each model on every training fold and predict its test fold.

    Returns ``{name: {"folds": rows, "pred": out_of_fold_levels}}``; each row holds the fold's
    :func:`level_metrics`, ``fit`` (seconds), ``pred_ms`` (per prompt) and ``epochs_run``
    (``n_iter_`` of the fitted model, when it has one).
    """
    from sklearn.base import clone

    results = {}
    for name, estimator in models.items():
        pred = np.empty_like(levels)
        rows = []
        for k, (train, test) in enumerate(splits):
            start = time.perf_counter()
            fitted = clone(estimator).fit(X[train], levels[train])
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            pred[test] = fitted.predict(X[test])
            pred_s = time.perf_counter() - start
            rows.append({**level_metrics(levels[test], pred[test]), "fit": fit_s,
                         "pred_ms": 1000 * pred_s / len(test),
                         "epochs_run": getattr(fitted, "n_iter_", None)})
            log(f"  {name} fold {k + 1}/{len(splits)}: accuracy {rows[-1]['accuracy']:.3f}, "
                f"fit {fit_s:.1f} s")
        results[name] = {"folds": rows, "pred": pred}
    return results


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
