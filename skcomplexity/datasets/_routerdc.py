"""RouterDC's MBPP table: pass rates of 7 open LLMs over 10 samples per question."""

from __future__ import annotations

import json

import numpy as np
from sklearn.utils import Bunch

from ._base import _load_descr, _resolve_path

_DEFAULT_RELPATH = "routerdc/mbpp_7models.json"
_N_SAMPLES = 10


def _strip_quotes(question):
    text = question.strip()
    if text.startswith('"""') and text.endswith('"""') and len(text) >= 6:
        text = text[3:-3]
    return text.strip()


def load_routerdc(path=None, *, data_home=None):
    """Load RouterDC's MBPP pass rates of 7 open 7B-class LLMs.

    RouterDC (Chen et al., NeurIPS 2024) sampled 10 answers from each of 7 open LLMs for 500
    MBPP questions (an instruction plus its first ``assert``) and recorded the fraction that
    passed. The default file is ``<data_home>/routerdc/mbpp_7models.json``, a list of
    ``{"question": ..., "scores": {model: pass_rate}}``.

    Read more in ``DESCR`` of the returned Bunch.

    Parameters
    ----------
    path : str or path-like, default=None
        The JSON file to read. If None, ``<data_home>/routerdc/mbpp_7models.json``.

    data_home : str or path-like, default=None
        The data folder used when ``path`` is None; see :func:`get_data_home`.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        prompts : list of str
            The questions without their surrounding triple quotes: the instruction, a newline,
            the ``assert`` line.
        instructions : list of str
            The instruction alone (the question without its ``assert`` line).
        outcomes : ndarray of shape (n_questions, n_models), dtype float
            The fraction of the 10 samples that passed: 0.0, 0.1, ..., 1.0.
        models : list of str
            The model names, one per column, in the file's order.
        n_samples : int
            Number of answers sampled per question and model (10).
        DESCR : str
            Description of the dataset.

    Raises
    ------
    OSError
        If the file does not exist.
    ValueError
        If the file is not in RouterDC's format.

    Examples
    --------
    >>> from skcomplexity.datasets import load_routerdc
    >>> dc = load_routerdc()
    >>> dc.outcomes.shape
    (500, 7)
    >>> print(dc.prompts[0])
    Write a python function to remove first and last occurrence of a given character from
    the string.
    assert remove_Occ("hello","l") == "heo"
    >>> dc.instructions[0].endswith("character from the string.")
    True
    """
    path = _resolve_path(path, data_home, _DEFAULT_RELPATH)
    if not path.is_file():
        raise OSError(
            f"No RouterDC table at {path}. It is datasets/split2_model7/mbpp.json in RouterDC's "
            f"repository (github.com/shuhao02/RouterDC); save it there, pass path=..., or "
            f"point data_home (or the SKCOMPLEXITY_DATA environment variable) at a folder "
            f"holding {_DEFAULT_RELPATH}."
        )
    with open(path, encoding="utf-8") as f:
        records = json.load(f)
    if not isinstance(records, list) or not records:
        raise ValueError(f"{path} is not a RouterDC table: expected a non-empty JSON list")
    models = list(records[0].get("scores", {}))
    prompts, instructions, rows = [], [], []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict) or "question" not in rec or "scores" not in rec:
            raise ValueError(f"record {i} of {path} lacks 'question' or 'scores'")
        if list(rec["scores"]) != models and set(rec["scores"]) != set(models):
            raise ValueError(f"record {i} of {path} scores other models than record 0")
        prompt = _strip_quotes(rec["question"])
        prompts.append(prompt)
        lines = [ln for ln in prompt.split("\n") if not ln.lstrip().startswith("assert ")]
        instructions.append("\n".join(lines).strip())
        rows.append([float(rec["scores"][m]) for m in models])
    return Bunch(
        prompts=prompts,
        instructions=instructions,
        outcomes=np.asarray(rows, dtype=float),
        models=models,
        n_samples=_N_SAMPLES,
        DESCR=_load_descr("routerdc.rst"),
    )
