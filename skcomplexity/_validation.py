"""Input checks shared by every estimator that takes prompts."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

__all__ = ["check_texts", "is_text_input", "check_costs", "check_models"]


def is_text_input(X) -> bool:
    """Whether ``X`` holds prompts (strings) rather than a numeric feature matrix.

    Examples
    --------
    >>> is_text_input(["a", "b"]), is_text_input([[0.1, 0.2]])
    (True, False)
    """
    if isinstance(X, str):
        return True
    if X is None or sp.issparse(X):
        return False
    arr = X.to_numpy() if hasattr(X, "to_numpy") else X
    if isinstance(arr, np.ndarray):
        if arr.dtype.kind in "US":
            return True
        if arr.dtype.kind != "O":
            return False
        return arr.size > 0 and arr.ndim == 1 and isinstance(arr.flat[0], str)
    try:
        first = next(iter(arr))
    except (TypeError, StopIteration):
        return False
    return isinstance(first, str) or first is None


def check_texts(X, *, name="X"):
    """Validate prompts and return them as a list of ``str``.

    Accepts a list, tuple, 1-D array or pandas Series of strings. Rejects a bare string (a
    common slip for a list of one prompt), None, NaN and empty or blank strings, naming the
    first offending position.

    Examples
    --------
    >>> check_texts(("write f", "sort a list"))
    ['write f', 'sort a list']
    >>> check_texts(["ok", ""])
    Traceback (most recent call last):
    ...
    ValueError: X[1] is an empty string; every prompt needs text.
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of prompts, not a single string; wrap it in a list.")
    if X is None:
        raise ValueError(f"{name} is None; pass a sequence of prompts.")
    values = X.tolist() if hasattr(X, "tolist") else list(X)
    if len(values) == 0:
        raise ValueError(f"{name} is empty; at least one prompt is required.")
    for i, text in enumerate(values):
        if text is None or (isinstance(text, float) and np.isnan(text)):
            raise ValueError(f"{name}[{i}] is missing (None or NaN); every prompt needs text.")
        if not isinstance(text, str):
            raise TypeError(f"{name}[{i}] is a {type(text).__name__}, expected str.")
        if not text.strip():
            raise ValueError(f"{name}[{i}] is an empty string; every prompt needs text.")
    return values


def check_models(models):
    """Validate a model ladder: a non-empty sequence of unique model ids, cheapest first.

    Ids are usually names; integers work too and make a router's predictions numeric.

    Returns
    -------
    models : ndarray
        Object dtype for names (so that long names are never truncated), the ids' own dtype
        otherwise.

    Examples
    --------
    >>> check_models(["small", "large"])
    array(['small', 'large'], dtype=object)
    >>> check_models([0, 1, 2])
    array([0, 1, 2])
    """
    if models is None or isinstance(models, str) or len(models) == 0:
        raise ValueError("models must be a non-empty list of model names in ascending cost.")
    models = list(models)
    if len(set(models)) != len(models):
        raise ValueError(f"models must be unique, got {models}.")
    if any(isinstance(m, str) for m in models):
        return np.asarray([str(m) for m in models], dtype=object)
    return np.asarray(models)


def check_costs(costs, n_models):
    """Validate one non-negative cost per model, in ascending order.

    Examples
    --------
    >>> check_costs([1, 10, 100], 3)
    array([  1.,  10., 100.])
    >>> check_costs([1, -2], 2)
    Traceback (most recent call last):
    ...
    ValueError: costs must be non-negative, got [1.0, -2.0].
    """
    if costs is None:
        raise ValueError("costs must be given, one per model.")
    arr = np.asarray(costs, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != n_models:
        raise ValueError(f"costs must hold one value per model ({n_models}), got {arr.shape[0] if arr.ndim else 'a scalar'}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"costs must be finite, got {arr.tolist()}.")
    if np.any(arr < 0):
        raise ValueError(f"costs must be non-negative, got {arr.tolist()}.")
    if np.any(np.diff(arr) < 0):
        raise ValueError(
            f"costs must be in ascending order (models cheapest first), got {arr.tolist()}."
        )
    return arr


def check_scalar_fraction(value, name):
    if not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}.")
    return float(value)
