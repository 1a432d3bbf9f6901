"""Smoke tests of the classification and speed benchmarks: each runs with ``--quick``.

They run the real scripts in a child process (real data, real MiniLM, a real GGUF model for
the zero-shot baseline), write into a temporary folder and check that the Markdown tables and
the PNG figures are there and parse.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"

pytestmark = pytest.mark.slow


def _run(script, out, *extra, data_home):
    env = dict(os.environ, SKCOMPLEXITY_DATA=str(data_home), HF_HUB_OFFLINE="1",
               MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", "--out", str(out), *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout


def _tables(path):
    sys.path.insert(0, str(BENCH))
    try:
        from _common import parse_md_tables
    finally:
        sys.path.remove(str(BENCH))
    return parse_md_tables(path.read_text())


def _check_png(path):
    assert path.is_file() and path.stat().st_size > 1000
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100


def _share(cell):
    value = float(cell.split("±")[0])
    assert 0.0 <= value <= 1.0
    return value


def test_bench_classification_quick(tmp_path, data_home, routerbench):
    from skcomplexity.labeling import LabelingResult

    # A real label file: RouterBench's 0/1 grades of the paper's three models (1 sample).
    import pandas as pd

    passes = pd.DataFrame(np.asarray(routerbench.outcomes, dtype=int),
                          columns=["code-llama", "gpt-3.5", "gpt-4"])
    labels = tmp_path / "labels.csv"
    LabelingResult.from_passes(passes, prompts=list(routerbench.prompts), n_samples=1).to_csv(labels)

    out = tmp_path / "results"
    stdout = _run("bench_classification.py", out, "--labels", str(labels),
                  "--llm", "SmolLM2-135M-Instruct", "--cache-dir", str(tmp_path / "cache"),
                  data_home=data_home)
    md = out / "classification.md"
    assert md.is_file() and "routerdc-8" in stdout
    tables = _tables(md)
    assert len(tables) == 3  # routerdc-8, routerdc-paper5, the label file
    for header, rows in tables:
        assert header[:5] == ["model", "tasks scored", "accuracy", "macro-F1", "within-one"]
        names = [r[0] for r in rows]
        assert any(n.startswith("majority") for n in names)
        assert any("zero-shot" in n for n in names)
        for row in rows:
            if row[2].startswith("not "):
                continue  # e.g. the fine-tuned model when it is not available
            acc, within = _share(row[2]), _share(row[4])
            _share(row[3])
            assert within >= acc - 1e-9  # an exact hit is also within one level
    _check_png(out / "classification_confusion.png")


def test_bench_speed_quick(tmp_path, data_home):
    out = tmp_path / "results"
    _run("bench_speed.py", out, data_home=data_home)
    tables = _tables(out / "speed.md")
    assert len(tables) == 3
    (lat_h, lat), (tp_h, tp), (sc_h, sc) = tables
    assert lat_h[:4] == ["call", "calls", "median (ms)", "p99 (ms)"]
    assert float(lat[0][2]) > 0 and float(lat[1][2]) > 0
    assert [int(r[0]) for r in tp] == [1, 8]
    assert all(float(r[2]) > 0 and float(r[3]) > 0 for r in tp)
    assert [int(r[0].replace(",", "")) for r in sc] == [50, 200, 1000]
    assert all(float(r[1]) > 0 and float(r[3]) > 0 for r in sc)
    _check_png(out / "speed_scaling.png")
