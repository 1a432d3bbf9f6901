"""Shared helpers of the dataset loaders: the data home, remote files, DESCR texts.

Modelled on ``sklearn/datasets/_base.py``: a data home taken from an argument, then from the
``SKCOMPLEXITY_DATA`` environment variable, then ``~/skcomplexity_data``; remote files described by
a :class:`RemoteFileMetadata` (file name, URL, SHA-256 checksum); downloads written to a temporary
file in the target folder and renamed into place only once they are complete and valid.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.request
from collections import namedtuple
from importlib import resources
from pathlib import Path

#: Environment variable naming the data home when ``data_home`` is not given.
DATA_HOME_ENV = "SKCOMPLEXITY_DATA"

#: A remote file: its local ``filename``, the ``url`` to fetch it from and its ``checksum``
#: (SHA-256 hex digest of the bytes, or None when no trustworthy checksum is known).
RemoteFileMetadata = namedtuple("RemoteFileMetadata", ["filename", "url", "checksum"])


def get_data_home(data_home=None) -> str:
    """Return the path of the skcomplexity data folder, creating it if missing.

    The folder holds the data files the loaders read and the fetchers download into, so that a
    file is downloaded only once. It is, in order of precedence: ``data_home`` when given, the
    ``SKCOMPLEXITY_DATA`` environment variable when set, else ``~/skcomplexity_data``. A leading
    ``~`` is expanded.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The path to the data folder. If None, use ``SKCOMPLEXITY_DATA`` or
        ``~/skcomplexity_data``.

    Returns
    -------
    data_home : str
        The path to the data folder.

    Examples
    --------
    >>> import os, tempfile
    >>> from skcomplexity.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     home = get_data_home(os.path.join(tmp, "data"))
    ...     os.path.isdir(home)
    True
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or os.path.join("~", "skcomplexity_data")
    data_home = os.path.expanduser(os.fspath(data_home))
    os.makedirs(data_home, exist_ok=True)
    return data_home


def _sha256(path, chunk_size=1 << 16) -> str:
    """Return the SHA-256 hex digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch_remote(remote, dirname, *, validate=None, timeout=60) -> str:
    """Download ``remote`` into ``dirname`` atomically and return the final path.

    The bytes go to a temporary file in ``dirname``; the checksum (when ``remote.checksum`` is not
    None) and then ``validate(tmp_path)`` (when given; it raises on an invalid file) are checked,
    and only then is the file renamed to ``dirname/remote.filename`` with :func:`os.replace`. On
    any failure the temporary file is removed, so no partial file is ever left under the final
    name, and an :class:`OSError` explaining what went wrong is raised.
    """
    os.makedirs(dirname, exist_ok=True)
    final_path = os.path.join(dirname, remote.filename)
    fd, tmp_path = tempfile.mkstemp(dir=dirname, prefix=f".{remote.filename}.", suffix=".part")
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(
                remote.url, timeout=timeout
            ) as response:
                shutil.copyfileobj(response, out)
                expected = response.headers.get("Content-Length")
                received = out.tell()
        except (OSError, http.client.HTTPException) as exc:
            # URLError, HTTPError, timeouts and IncompleteRead (a truncated body) all land here.
            raise OSError(
                f"Downloading {remote.url} failed ({type(exc).__name__}: {exc}); "
                f"nothing was written to {final_path}."
            ) from exc
        # ``HTTPResponse.read(n)`` returns short reads without raising when the server closes
        # early, so a truncated body is caught here by comparing with the announced length.
        if expected is not None and expected.isdigit() and int(expected) != received:
            raise OSError(
                f"The download from {remote.url} was truncated: received {received} of "
                f"{expected} bytes; nothing was written to {final_path}."
            )
        if remote.checksum is not None:
            checksum = _sha256(tmp_path)
            if checksum != remote.checksum:
                raise OSError(
                    f"The file downloaded from {remote.url} has SHA-256 {checksum}, "
                    f"expected {remote.checksum}: the download is corrupted or the remote file "
                    f"changed; nothing was written to {final_path}."
                )
        if validate is not None:
            try:
                validate(tmp_path)
            except ValueError as exc:
                raise OSError(
                    f"The file downloaded from {remote.url} is not valid ({exc}); "
                    f"nothing was written to {final_path}."
                ) from exc
        os.replace(tmp_path, final_path)
    except BaseException:
        try:
            os.remove(tmp_path)
        except FileNotFoundError:
            pass
        raise
    return final_path


def _load_descr(name: str) -> str:
    """Return the text of ``descr/<name>`` shipped with this subpackage."""
    return resources.files(__package__).joinpath("descr", name).read_text(encoding="utf-8")


def _resolve_path(path, data_home, default_relpath) -> Path:
    """Return ``path`` when given, else ``<data_home>/<default_relpath>``."""
    if path is not None:
        return Path(os.path.expanduser(os.fspath(path)))
    return Path(get_data_home(data_home)) / default_relpath
