"""MBPP, the Mostly Basic Python Problems (Austin et al., 2021)."""

from __future__ import annotations

import json
import os

import numpy as np
from sklearn.utils import Bunch

from ._base import RemoteFileMetadata, _fetch_remote, _load_descr, get_data_home

#: The upstream file. Tests point a fetch at a local server by replacing this module attribute
#: (``monkeypatch.setattr(skcomplexity.datasets._mbpp, "MBPP_REMOTE", RemoteFileMetadata(...))``).
#:
#: The checksum is None on purpose. It would have to be the SHA-256 of the bytes served at this
#: URL, and this project was written on machines that cannot reach raw.githubusercontent.com;
#: the copy we have is a mirror whose bytes may differ from upstream (line endings, a few
#: characters), so its digest must not be passed off as upstream's. Until someone computes the
#: digest from the upstream file itself, a download is verified by its structure instead (974
#: records, task ids 1..974, the six fields; see ``_check_mbpp_records``).
MBPP_REMOTE = RemoteFileMetadata(
    filename="mbpp.jsonl",
    url=(
        "https://raw.githubusercontent.com/google-research/google-research/"
        "master/mbpp/mbpp.jsonl"
    ),
    checksum=None,
)

#: The canonical splits of MBPP, as inclusive ranges of ``task_id``.
MBPP_SPLITS = {
    "prompt": (1, 10),
    "test": (11, 510),
    "validation": (511, 600),
    "train": (601, 974),
}

_N_TASKS = 974
_FIELDS = {
    "task_id": int,
    "text": str,
    "code": str,
    "test_setup_code": str,
    "test_list": list,
    "challenge_test_list": list,
}


def _read_mbpp(path):
    """Read ``mbpp.jsonl`` into a list of records and check its structure."""
    records = []
    with open(path, encoding="utf-8-sig") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"line {lineno} of {path} is not valid JSON: {exc}") from exc
    _check_mbpp_records(records)
    return records


def _check_mbpp_records(records):
    """Raise ValueError unless ``records`` is the full MBPP: 974 tasks, ids 1..974, six fields."""
    if len(records) != _N_TASKS:
        raise ValueError(f"expected {_N_TASKS} MBPP records, found {len(records)}")
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise ValueError(f"record {i} is a {type(rec).__name__}, not a JSON object")
        for field, kind in _FIELDS.items():
            if field not in rec:
                raise ValueError(f"record {i} has no field {field!r}")
            if not isinstance(rec[field], kind) or isinstance(rec[field], bool):
                raise ValueError(
                    f"field {field!r} of record {i} is a {type(rec[field]).__name__}, "
                    f"expected {kind.__name__}"
                )
        for field in ("test_list", "challenge_test_list"):
            if not all(isinstance(t, str) for t in rec[field]):
                raise ValueError(f"field {field!r} of record {i} holds non-strings")
    ids = sorted(rec["task_id"] for rec in records)
    if ids != list(range(1, _N_TASKS + 1)):
        raise ValueError(f"MBPP task ids are not exactly 1..{_N_TASKS}")


def fetch_mbpp(*, data_home=None, download_if_missing=True, split=None, return_X_y=False):
    """Load MBPP, the Mostly Basic Python Problems, downloading it if missing.

    974 short Python programming tasks written by crowd workers, each with an instruction, a
    reference solution and three ``assert`` tests (Austin et al., 2021, CC BY 4.0). The file is
    ``<data_home>/mbpp/mbpp.jsonl``; when it is missing it is downloaded from the
    google-research repository (see ``MBPP_REMOTE``), checked and renamed into place atomically.

    Read more in ``DESCR`` of the returned Bunch.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data folder; see :func:`get_data_home`. By default ``SKCOMPLEXITY_DATA`` or
        ``~/skcomplexity_data``.

    download_if_missing : bool, default=True
        If False, raise an :class:`OSError` when the file is not there instead of downloading.

    split : {None, "prompt", "test", "validation", "train"}, default=None
        The canonical split to return, by ``task_id``: ``"prompt"`` 1-10 (few-shot examples),
        ``"test"`` 11-510, ``"validation"`` 511-600, ``"train"`` 601-974. None returns all 974.

    return_X_y : bool, default=False
        If True, return ``(data, tests)`` instead of a Bunch.

    Returns
    -------
    dataset : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes, in ``task_id`` order.

        data : list of str
            The instructions (the ``text`` field).
        tests : list of list of str
            The ``assert`` lines of each task (``test_list``).
        setup : list of str
            Code to run before the tests (``test_setup_code``, mostly empty).
        code : list of str
            The reference solutions, as published (with ``\\r\\n`` line endings).
        task_id : ndarray of shape (n_tasks,), dtype int
            The MBPP task ids.
        challenge_tests : list of list of str
            Extra, harder tests (``challenge_test_list``, empty for all but 11 tasks).
        DESCR : str
            Description of the dataset.

    (data, tests) : tuple
        When ``return_X_y`` is True.

    Raises
    ------
    ValueError
        If ``split`` is not one of the values above, or the local file is not a complete MBPP.
    OSError
        If the file is missing and ``download_if_missing`` is False, or the download fails or
        does not hold a valid MBPP file (nothing is left behind in that case).

    Notes
    -----
    The downloaded file is verified against ``MBPP_REMOTE.checksum`` when that is not None;
    it is None at present (no digest taken from the upstream file is available), so the
    structure is checked instead: 974 records, task ids 1 to 974, and the six fields
    ``task_id``, ``text``, ``code``, ``test_setup_code``, ``test_list``,
    ``challenge_test_list``.

    Examples
    --------
    >>> from skcomplexity.datasets import fetch_mbpp
    >>> mbpp = fetch_mbpp(download_if_missing=False)
    >>> len(mbpp.data)
    974
    >>> mbpp.data[1]
    'Write a function to find the similar elements from the given two tuple lists.'
    >>> mbpp.tests[1][0]
    'assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)'
    >>> X, y = fetch_mbpp(split="validation", return_X_y=True, download_if_missing=False)
    >>> len(X), len(y)
    (90, 90)
    """
    if split is not None and split not in MBPP_SPLITS:
        raise ValueError(
            f"split must be None or one of {sorted(MBPP_SPLITS)}; got {split!r}."
        )
    remote = MBPP_REMOTE  # looked up at call time, so a test may point it at a local server
    dirname = os.path.join(get_data_home(data_home), "mbpp")
    path = os.path.join(dirname, remote.filename)
    if not os.path.exists(path):
        if not download_if_missing:
            raise OSError(
                f"MBPP is not at {path}. Call fetch_mbpp(download_if_missing=True) to download "
                f"it from {remote.url}, save that file there yourself, or point data_home "
                f"(or the SKCOMPLEXITY_DATA environment variable) at a folder holding "
                f"mbpp/{remote.filename}."
            )
        _fetch_remote(remote, dirname, validate=_read_mbpp)
    try:
        records = _read_mbpp(path)
    except ValueError as exc:
        raise ValueError(
            f"{path} is not a complete MBPP file ({exc}); delete it to download it again."
        ) from exc

    records.sort(key=lambda rec: rec["task_id"])
    if split is not None:
        lo, hi = MBPP_SPLITS[split]
        records = [rec for rec in records if lo <= rec["task_id"] <= hi]

    data = [rec["text"] for rec in records]
    tests = [list(rec["test_list"]) for rec in records]
    if return_X_y:
        return data, tests
    return Bunch(
        data=data,
        tests=tests,
        setup=[rec["test_setup_code"] for rec in records],
        code=[rec["code"] for rec in records],
        task_id=np.array([rec["task_id"] for rec in records], dtype=int),
        challenge_tests=[list(rec["challenge_test_list"]) for rec in records],
        DESCR=_load_descr("mbpp.rst"),
    )
