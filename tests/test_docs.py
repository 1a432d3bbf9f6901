"""The documentation builds with warnings as errors, the gallery executed.

This is how CI builds the docs: ``sphinx-build -W --keep-going -b html docs <out>`` in a
subprocess, with ``SKCOMPLEXITY_DATA`` passed through so that the gallery runs on the data
home, offline.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("plot_*.py"))

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("sphinx_gallery")


def _data_home():
    data = os.environ.get("SKCOMPLEXITY_DATA")
    if not data or not Path(data).is_dir():
        pytest.skip("SKCOMPLEXITY_DATA is not set to the data folder (../shared/data)")
    return str(Path(data).resolve())


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_docs_build_with_gallery(tmp_path):
    env = dict(os.environ, SKCOMPLEXITY_DATA=_data_home(), HF_HUB_OFFLINE="1",
               MPLBACKEND="Agg")
    out = tmp_path / "html"
    # -E -a: a fresh environment; -d: doctrees outside the source tree. Generated files
    # (docs/generated, docs/auto_examples) are gitignored. run_stale_examples: execute every
    # example even when docs/auto_examples holds the output of an earlier build.
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-a", "-b", "html",
           "-D", "sphinx_gallery_conf.run_stale_examples=True",
           "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    log = proc.stdout[-20000:] + "\n" + proc.stderr[-20000:]
    assert proc.returncode == 0, f"sphinx-build failed ({proc.returncode}):\n{log}"

    api = out / "api.html"
    assert api.is_file()
    text = api.read_text(encoding="utf-8")
    for name in ["ComplexityClassifier", "CostAwareRouter", "SentenceEmbedder",
                 "cheapest_capable_levels", "paper_levels", "PAPER_MAPPING",
                 "make_routing_scorer", "label_tasks", "run_tests", "RoutingCurveDisplay"]:
        assert name in text, f"{name} missing from the API page"
    assert (out / "generated" / "skcomplexity.CostAwareRouter.html").is_file()

    gallery = out / "auto_examples"
    assert (gallery / "index.html").is_file()
    assert EXAMPLES, "no example in examples/"
    for stem in EXAMPLES:
        page = gallery / f"{stem}.html"
        assert page.is_file(), f"gallery page of {stem} missing"
        # Every example draws a figure, so its page shows at least one rendered image.
        assert f"sphx_glr_{stem}_001.png" in page.read_text(encoding="utf-8"), stem
    for guide in ["levels", "labeling", "sandbox", "routing", "evaluation", "scaling",
                  "related"]:
        assert (out / "user_guide" / f"{guide}.html").is_file(), guide
