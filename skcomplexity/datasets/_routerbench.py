"""RouterBench (Hu et al., 2024): answers, 0/1 grades and costs of 11 LLMs per prompt."""

from __future__ import annotations

import ast

import numpy as np
from sklearn.utils import Bunch

from ._base import _load_descr, _resolve_path

_DEFAULT_RELPATH = "routerbench/mbpp_train.csv"
_RESPONSE = "|model_response"
_COST = "|total_cost"


def _unwrap(value):
    """Turn RouterBench's one-string list (literal or real) into the string it holds.

    RouterBench stores prompts and answers as lists holding one string; in the CSV export
    these lists are Python literals (``"['Write a function ...']"``). Anything else is
    returned unchanged.
    """
    if isinstance(value, str):
        text = value.strip()
        if not (text.startswith("[") and text.endswith("]")):
            return value
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return value
    else:
        parsed = value
    if isinstance(parsed, (list, tuple)) and len(parsed) == 1 and isinstance(parsed[0], str):
        return parsed[0]
    return value


def _read_frame(path):
    import pandas as pd

    if path.suffix.lower() in (".pkl", ".pickle"):
        # RouterBench publishes its results as pickled DataFrames (routerbench_0shot.pkl).
        # Unpickling runs code from the file: only load pickles from a source you trust.
        frame = pd.read_pickle(path)
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"{path} holds a {type(frame).__name__}, not a pandas DataFrame")
        return frame
    return pd.read_csv(path)


def load_routerbench(path=None, *, data_home=None, models=None, sort_by_cost=True):
    """Load a RouterBench table: for each prompt, each LLM's answer, grade and cost.

    RouterBench (Hu et al., 2024) ran 11 LLMs on benchmark prompts and recorded, per prompt
    and model, the answer, whether it was correct (0/1) and what it cost in US dollars. The
    default file is the zero-shot MBPP train split (299 prompts) as published with RouterDC.
    Any table in RouterBench's format is accepted: a CSV, or a pickled pandas DataFrame
    (``.pkl``/``.pickle``, as RouterBench publishes them).

    Read more in ``DESCR`` of the returned Bunch.

    Parameters
    ----------
    path : str or path-like, default=None
        The file to read. If None, ``<data_home>/routerbench/mbpp_train.csv``.

    data_home : str or path-like, default=None
        The data folder used when ``path`` is None; see :func:`get_data_home`.

    models : list of str, default=None
        Keep only these models, in this order (unless ``sort_by_cost`` reorders them). None
        keeps all models found in the file.

    sort_by_cost : bool, default=True
        If True, order the model columns by ascending mean cost per prompt, as routers that
        climb a ladder of models expect. If False, keep the order of ``models`` (or of the
        file when ``models`` is None).

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        prompts : list of str
            The prompts (unwrapped from RouterBench's one-string lists).
        outcomes : ndarray of shape (n_prompts, n_models), dtype float
            1.0 where the model's answer was graded correct, else 0.0.
        costs : ndarray of shape (n_prompts, n_models), dtype float
            US dollars the model cost on that prompt.
        responses : ndarray of shape (n_prompts, n_models), dtype object
            The models' answers as strings.
        models : list of str
            The model names, one per column.
        sample_id : ndarray of shape (n_prompts,), dtype object
            RouterBench's id of each prompt (e.g. ``'mbpp.dev.92'``).
        eval_name : ndarray of shape (n_prompts,), dtype object
            The benchmark each prompt comes from (``'mbpp'`` throughout the default file).
        DESCR : str
            Description of the dataset.

    Raises
    ------
    OSError
        If the file does not exist.
    ValueError
        If ``models`` names a model that is not in the file (the message lists those that
        are), or the file is not in RouterBench's format.

    Examples
    --------
    >>> from skcomplexity.datasets import load_routerbench
    >>> bench = load_routerbench()
    >>> bench.outcomes.shape
    (299, 11)
    >>> bench = load_routerbench(models=["gpt-4-1106-preview", "gpt-3.5-turbo-1106"])
    >>> bench.models
    ['gpt-3.5-turbo-1106', 'gpt-4-1106-preview']
    >>> bench.outcomes.mean(axis=0).round(3)
    array([0.639, 0.686])
    """
    path = _resolve_path(path, data_home, _DEFAULT_RELPATH)
    if not path.is_file():
        raise OSError(
            f"No RouterBench table at {path}. RouterBench's results are published on the "
            f"Hugging Face hub (withmartian/routerbench) and the MBPP train split in RouterDC's "
            f"repository; save a CSV there, pass path=..., or point data_home (or the "
            f"SKCOMPLEXITY_DATA environment variable) at a folder holding {_DEFAULT_RELPATH}."
        )
    frame = _read_frame(path)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    missing = [c for c in ("prompt", "sample_id") if c not in columns]
    if missing:
        raise ValueError(f"{path} is not a RouterBench table: no column {missing[0]!r}")
    available = [
        c
        for c in columns
        if "|" not in c and f"{c}{_COST}" in columns and f"{c}{_RESPONSE}" in columns
    ]
    if not available:
        raise ValueError(
            f"{path} is not a RouterBench table: no model has the three columns "
            f"'MODEL', 'MODEL{_RESPONSE}' and 'MODEL{_COST}'"
        )

    if models is None:
        selected = available
    else:
        selected = [models] if isinstance(models, str) else list(models)
        unknown = [m for m in selected if m not in available]
        if unknown:
            raise ValueError(
                f"Unknown model(s) {unknown}; the models in {path.name} are {available}."
            )
        if len(set(selected)) != len(selected):
            raise ValueError(f"models has duplicates: {selected}")
        if not selected:
            raise ValueError("models must name at least one model")

    costs = frame[[f"{m}{_COST}" for m in selected]].to_numpy(dtype=float)
    if sort_by_cost:
        order = np.argsort(np.nanmean(costs, axis=0), kind="stable")
        selected = [selected[i] for i in order]
        costs = costs[:, order]

    outcomes = frame[selected].to_numpy(dtype=float)
    responses = np.empty((len(frame), len(selected)), dtype=object)
    for j, m in enumerate(selected):
        responses[:, j] = [_unwrap(v) for v in frame[f"{m}{_RESPONSE}"]]
    if "eval_name" in columns:
        eval_name = frame["eval_name"].to_numpy(dtype=object)
    else:
        eval_name = np.full(len(frame), None, dtype=object)

    return Bunch(
        prompts=[_unwrap(p) for p in frame["prompt"]],
        outcomes=outcomes,
        costs=costs,
        responses=responses,
        models=selected,
        sample_id=frame["sample_id"].to_numpy(dtype=object),
        eval_name=eval_name,
        DESCR=_load_descr("routerbench.rst"),
    )
