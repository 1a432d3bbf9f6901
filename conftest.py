"""Test-session set-up shared by the test suite and the doctests in the package.

The real data sits beside the repository (``../shared/data``) and is read through
``SKCOMPLEXITY_DATA``; when the variable is unset and that folder exists, point at it so a
developer's plain ``pytest`` behaves like CI. Doctests that need the data are skipped, with the
reason, when neither is available.
"""

import os
from pathlib import Path

import pytest

_SHARED = Path(__file__).resolve().parent.parent / "shared" / "data"
if "SKCOMPLEXITY_DATA" not in os.environ and _SHARED.is_dir():
    os.environ["SKCOMPLEXITY_DATA"] = str(_SHARED)

# Two cores: let torch and BLAS use them, but not more threads than that.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

_NEEDS_DATA = ("skcomplexity.datasets", "skcomplexity.evaluation")


def pytest_collection_modifyitems(config, items):
    data = os.environ.get("SKCOMPLEXITY_DATA")
    if data and Path(data).is_dir():
        return
    skip = pytest.mark.skip(reason="SKCOMPLEXITY_DATA is not set to the data folder")
    for item in items:
        if isinstance(item, pytest.DoctestItem) and item.name.startswith(_NEEDS_DATA):
            item.add_marker(skip)
