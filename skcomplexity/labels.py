"""Complexity levels derived from an outcome table.

An *outcome table* has one row per task and one column per model, the models ordered by
ascending cost. Each cell is how often the model's answer passed the task's tests: a pass count
out of ``n_samples`` answers, or a pass rate in [0, 1]. A *complexity level* summarises a row:
the lower the level, the cheaper the model that can be trusted with the task.

Two schemes are provided:

* :func:`cheapest_capable_levels` -- for any ladder of K models, the level is ``k`` (1-based)
  for the cheapest model whose pass rate reaches ``threshold``, and ``K + 1`` when no model
  does. It needs no tuning beyond the threshold and is what :class:`~skcomplexity.CostAwareRouter`
  uses when it is fitted on an outcome matrix.
* :func:`paper_levels` -- the five levels of ComplexityNet (Bae et al., 2023) for a ladder of
  three models sampled five times each. The paper does not publish its table; ours is
  documented in the function and is monotone in difficulty.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.validation import check_array

__all__ = [
    "check_outcomes",
    "cheapest_capable_levels",
    "paper_levels",
    "PAPER_MAPPING",
]

#: The paper's routing table for its three-model ladder: levels 1-2 to the cheapest model,
#: 3-4 to the middle one and 5 to the most expensive. Values are positions in the ladder.
PAPER_MAPPING = {1: 0, 2: 0, 3: 1, 4: 1, 5: 2}


def check_outcomes(outcomes, *, n_models=None, n_samples=None, name="outcomes"):
    """Validate an outcome table and return it as pass rates in [0, 1].

    Parameters
    ----------
    outcomes : array-like of shape (n_tasks, n_models)
        Pass counts out of ``n_samples`` (integers) or pass rates in [0, 1].
    n_models : int, default=None
        Expected number of columns; a mismatch raises a ``ValueError`` naming both widths.
    n_samples : int, default=None
        Number of answers sampled per task and model. When given, ``outcomes`` holds counts
        and is divided by it; when None, values must already lie in [0, 1].
    name : str, default="outcomes"
        Name used in error messages.

    Returns
    -------
    rates : ndarray of shape (n_tasks, n_models), dtype float64

    Raises
    ------
    ValueError
        If the table is not 2-D, holds NaN or infinite values, has the wrong width, or holds
        values outside [0, 1] (rates) or [0, n_samples] (counts).

    Examples
    --------
    >>> check_outcomes([[5, 3, 0]], n_samples=5)
    array([[1. , 0.6, 0. ]])
    """
    rates = check_array(outcomes, dtype=np.float64, ensure_2d=True, input_name=name)
    if n_models is not None and rates.shape[1] != n_models:
        raise ValueError(
            f"{name} has {rates.shape[1]} columns but {n_models} models were given; "
            "pass one column per model, in the order of `models`."
        )
    if n_samples is not None:
        if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        if rates.min() < 0 or rates.max() > n_samples:
            raise ValueError(f"{name} holds pass counts outside [0, {n_samples}].")
        rates = rates / n_samples
    elif rates.min() < 0 or rates.max() > 1:
        raise ValueError(
            f"{name} holds values outside [0, 1]; pass n_samples if these are pass counts."
        )
    return rates


def _finish(levels, solved, unsolved, return_mask):
    if unsolved not in ("keep", "drop"):
        raise ValueError(f"unsolved must be 'keep' or 'drop', got {unsolved!r}.")
    if unsolved == "drop":
        levels = levels[solved]
    return (levels, solved) if return_mask else levels


def cheapest_capable_levels(
    outcomes, *, threshold=0.5, n_samples=None, unsolved="keep", return_mask=False
):
    """Level = 1 + position of the cheapest model whose pass rate reaches ``threshold``.

    For a ladder of K models this gives K + 1 levels; level K + 1 means that no model reaches
    the threshold. A task whose rates all stay at 0 is *unsolved*.

    Parameters
    ----------
    outcomes : array-like of shape (n_tasks, n_models)
        Pass counts or rates, models in ascending order of cost.
    threshold : float, default=0.5
        Pass rate a model must reach to be trusted with the task, in (0, 1].
    n_samples : int, default=None
        When given, ``outcomes`` are pass counts out of ``n_samples``.
    unsolved : {"keep", "drop"}, default="keep"
        Keep tasks no model ever solved (they get level K + 1) or drop them.
    return_mask : bool, default=False
        Also return a boolean mask of the tasks that some model solved at least once.

    Returns
    -------
    levels : ndarray of int
        One level per kept task, in 1 .. K + 1.
    solved : ndarray of bool of shape (n_tasks,)
        Only when ``return_mask=True``.

    Examples
    --------
    >>> cheapest_capable_levels([[1, 1, 1], [0, 0.6, 1], [0, 0, 0.2], [0, 0, 0]])
    array([1, 2, 4, 4])
    >>> cheapest_capable_levels([[1, 1, 1], [0, 0, 0]], unsolved="drop")
    array([1])
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold!r}.")
    rates = check_outcomes(outcomes, n_samples=n_samples)
    capable = rates >= threshold
    n_models = rates.shape[1]
    # argmax finds the first capable model; rows with none get K (0-based), i.e. level K + 1.
    first = np.where(capable.any(axis=1), capable.argmax(axis=1), n_models)
    levels = first.astype(int) + 1
    solved = rates.max(axis=1) > 0
    return _finish(levels, solved, unsolved, return_mask)


def paper_levels(passes, *, n_samples=5, reliable=0.8, unsolved="drop", return_mask=False):
    """The five complexity levels of ComplexityNet for a three-model ladder.

    The paper queries Code Llama, GPT-3.5 and GPT-4 five times each and turns the pass counts
    into levels 1-5, then routes levels 1-2 to the first model, 3-4 to the second and 5 to the
    third (:data:`PAPER_MAPPING`). It does not publish the table; ours follows the routing it
    was designed for, splitting each of the two cheaper models' share into a *reliable* and an
    *occasional* level:

    ======  =============================================================
    level   rule (first that holds, with p_k the pass rate of model k)
    ======  =============================================================
    1       p_1 >= reliable: the cheapest model solves it reliably
    2       p_1 > 0: the cheapest model solves it sometimes
    3       p_2 >= reliable: the middle model solves it reliably
    4       p_2 > 0: the middle model solves it sometimes
    5       p_3 > 0: only the most expensive model solves it
    6       no model ever solved it (kept only with ``unsolved="keep"``)
    ======  =============================================================

    The table is monotone: lowering any pass rate never lowers the level, so a higher level
    always means a task that is at least as hard for the ladder.

    Parameters
    ----------
    passes : array-like of shape (n_tasks, 3)
        Pass counts out of ``n_samples`` (or rates when ``n_samples=None``).
    n_samples : int or None, default=5
        Number of answers per task and model, as in the paper.
    reliable : float, default=0.8
        Pass rate that counts as reliable (4 of 5 answers).
    unsolved : {"drop", "keep"}, default="drop"
        The paper drops tasks no model solves; "keep" labels them 6.
    return_mask : bool, default=False
        Also return the boolean mask of solved tasks.

    Returns
    -------
    levels : ndarray of int
    solved : ndarray of bool, only when ``return_mask=True``

    Examples
    --------
    >>> paper_levels([[5, 5, 5], [2, 5, 5], [0, 4, 5], [0, 1, 5], [0, 0, 3], [0, 0, 0]])
    array([1, 2, 3, 4, 5])
    """
    rates = check_outcomes(passes, n_models=3, n_samples=n_samples, name="passes")
    if not 0 < reliable <= 1:
        raise ValueError(f"reliable must lie in (0, 1], got {reliable!r}.")
    p1, p2, p3 = rates.T
    levels = np.select(
        [p1 >= reliable, p1 > 0, p2 >= reliable, p2 > 0, p3 > 0], [1, 2, 3, 4, 5], default=6
    )
    solved = rates.max(axis=1) > 0
    return _finish(levels, solved, unsolved, return_mask)
