"""Tests of label_tasks and its completion cache, with real backends, sandbox and SQLite.

Two kinds of backend answer here: the two real local models (llama.cpp, marked slow and llm),
and :class:`ScriptedCoder`, a small real Backend of this file whose answers are a
deterministic function of the task and the seed. It is not a stand-in for an external part:
it implements the interface, runs through the same cache, joblib workers and sandbox, and
lets the tests count calls and know the right table in advance.
"""

import json
import os
import sqlite3
import threading
import uuid

import joblib
import numpy as np
import pandas as pd
import pytest

from skcomplexity.labeling import (
    Backend,
    BackendError,
    Completion,
    CompletionCache,
    LabelingResult,
    cache_key,
    label_tasks,
    load_tasks,
)
from skcomplexity.labeling.prompting import entry_point
from skcomplexity.labels import cheapest_capable_levels, paper_levels

TASKS = [
    {"task_id": 1, "text": "Write a function to add two numbers.",
     "test_list": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]},
    {"task_id": 2, "text": "Write a function to reverse a string.",
     "test_list": ["assert reverse('abc') == 'cba'", "assert reverse('') == ''"]},
    {"task_id": 3, "text": "Write a function to square a number.",
     "test_list": ["assert square(K) == 9"], "test_setup_code": "K = 3"},
    {"task_id": 4, "text": "Write a function returning the maximum of a list.",
     "test_list": ["assert biggest([1, 5, 2]) == 5"]},
    {"task_id": 5, "text": "Write a function that counts vowels.",
     "test_list": ["assert vowels('banana') == 3"]},
]
SOLUTIONS = {
    "add": "def add(a, b):\n    return a + b",
    "reverse": "def reverse(s):\n    return s[::-1]",
    "square": "def square(x):\n    return x * x",
    "biggest": "def biggest(xs):\n    return max(xs)",
    "vowels": "def vowels(s):\n    return sum(c in 'aeiou' for c in s)",
}


def _difficulty(task):
    """The skill a coder needs to always solve a task (task 5: more than any rung has)."""
    return {1: 0, 2: 1, 3: 1, 4: 2, 5: 4}[task["task_id"]]


class ScriptedCoder(Backend):
    """A deterministic coder: rung ``skill`` solves the tasks of difficulty below it.

    On tasks exactly at its skill it succeeds for even seeds only, so that pass counts other
    than 0 and ``n_samples`` occur. Counts its calls (per process).
    """

    def __init__(self, skill, *, fail_seeds=(), price_per_1k=None):
        super().__init__(price_per_1k=price_per_1k)
        self.skill = skill
        self.fail_seeds = tuple(fail_seeds)
        self.calls = 0
        self._lock = threading.Lock()

    @property
    def name(self):
        return f"scripted:{self.skill}"

    def cache_params(self):
        return {"backend": "scripted", "skill": self.skill}

    def generate(self, messages, *, temperature=0.8, max_tokens=512, seed=None):
        with self._lock:
            self.calls += 1
        if seed in self.fail_seeds:
            raise BackendError("scripted outage", model=self.name, attempts=3, status=503)
        user = messages[-1]["content"]
        name = user.split("named `")[1].split("`")[0]
        task = next(t for t in TASKS if entry_point(t["test_list"]) == name)
        level = _difficulty(task)
        right = level < self.skill or (level == self.skill and seed % 2 == 0)
        code = SOLUTIONS[name] if right else f"def {name}(*args):\n    return None"
        text = f"Here you go:\n```python\n{code}\n\nprint({name})\n```"
        return self._completion(text, prompt_tokens=len(user.split()),
                                completion_tokens=len(text.split()), finish_reason="stop")

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()


def expected_passes(skills, n_samples, seed=0):
    """The pass-count table ScriptedCoder rungs must produce."""
    table = []
    for task in TASKS:
        level = _difficulty(task)
        row = []
        for skill in skills:
            if level < skill:
                row.append(n_samples)
            elif level == skill:
                row.append(sum((seed + i) % 2 == 0 for i in range(n_samples)))
            else:
                row.append(0)
        table.append(row)
    return np.array(table)


# ----------------------------------------------------------------------------- tasks
def test_load_tasks_accepts_bunch_dicts_frame_and_jsonl(tmp_path, data_home):
    from skcomplexity.datasets import fetch_mbpp

    mbpp = fetch_mbpp(split="prompt")
    from_bunch = load_tasks(mbpp)
    assert [t["task_id"] for t in from_bunch] == list(range(1, 11))
    assert type(from_bunch[0]["task_id"]) is int  # noqa: E721 - numpy ints would leak into JSON
    assert from_bunch[0]["text"] == mbpp.data[0] and from_bunch[0]["test_list"] == mbpp.tests[0]

    path = tmp_path / "tasks.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in TASKS[:2]))
    assert load_tasks(path) == load_tasks(str(path)) == load_tasks(TASKS[:2])
    assert load_tasks(pd.DataFrame(TASKS[:2])) == load_tasks(TASKS[:2])
    # "prompt" is accepted for "text"
    alias = [{"task_id": "a", "prompt": "p", "test_list": ["assert f() == 1"]}]
    assert load_tasks(alias)[0]["text"] == "p"


def test_load_tasks_errors():
    with pytest.raises(ValueError, match="share a task_id"):
        load_tasks([TASKS[0], TASKS[0]])
    with pytest.raises(ValueError, match="'test_list'"):
        load_tasks([{"task_id": 1, "text": "x"}])


# ----------------------------------------------------------------------------- tables
@pytest.mark.parametrize("n_samples", [1, 3])
def test_label_tasks_table_matches_the_answers(tmp_path, n_samples):
    skills = [1, 2, 3]
    ladder = [ScriptedCoder(s, price_per_1k=0.5 * s) for s in skills]
    result = label_tasks(TASKS, ladder, n_samples=n_samples, cache=tmp_path / "c.sqlite",
                         drop_unsolved=False, progress=False)
    expected = expected_passes(skills, n_samples)
    models = ["scripted:1", "scripted:2", "scripted:3"]
    assert result.models == models
    assert result.task_ids == [1, 2, 3, 4, 5]
    assert result.prompts == [t["text"] for t in TASKS]
    assert list(result.passes.columns) == models
    assert result.passes.index.tolist() == [1, 2, 3, 4, 5]
    assert result.passes.dtypes.eq(np.int64).all()
    np.testing.assert_array_equal(result.passes.to_numpy(), expected)
    assert result.outcomes.dtype == np.float64
    np.testing.assert_allclose(result.outcomes, expected / n_samples)
    # Three models: the paper's levels; unsolved task 5 is level 6 when kept.
    assert result.level_scheme == "paper"
    np.testing.assert_array_equal(
        result.levels, paper_levels(expected, n_samples=n_samples, unsolved="keep"))

    records = result.records
    assert list(records.columns) == ["task_id", "model", "sample", "passed", "status",
                                     "reason", "prompt_tokens", "completion_tokens", "cost",
                                     "cached"]
    assert len(records) == len(TASKS) * len(skills) * n_samples
    assert not records.duplicated(["task_id", "model", "sample"]).any()
    assert records["passed"].dtype == bool and records["cached"].dtype == bool
    assert set(records["status"]) <= {"passed", "failed"}
    # Every answer was tested in the sandbox: the counts come from the records.
    counted = records.pivot_table(index="task_id", columns="model", values="passed",
                                  aggfunc="sum")[models]
    np.testing.assert_array_equal(counted.to_numpy(), expected)
    assert (records["cost"] > 0).all() and not records["cached"].any()
    failing = records[~records["passed"]]
    assert failing["reason"].str.len().gt(0).all()


def test_label_tasks_drops_unsolved_and_cheapest_levels(tmp_path):
    ladder = [ScriptedCoder(1), ScriptedCoder(3)]
    result = label_tasks(TASKS, ladder, n_samples=2, levels="auto", progress=False)
    expected = expected_passes([1, 3], 2)
    levels, solved = cheapest_capable_levels(expected, n_samples=2, unsolved="drop",
                                             return_mask=True)
    assert result.level_scheme == "cheapest"
    assert result.task_ids == [t["task_id"] for t, s in zip(TASKS, solved) if s] == [1, 2, 3, 4]
    assert result.dropped_task_ids == [5]
    np.testing.assert_array_equal(result.levels, levels)
    np.testing.assert_array_equal(result.passes.to_numpy(), expected[solved])
    assert len(result.prompts) == len(result.task_ids) == result.outcomes.shape[0]
    assert result.records["task_id"].nunique() == 5  # the raw log keeps every task

    with pytest.raises(ValueError, match="3 models"):
        label_tasks(TASKS, ladder, levels="paper", progress=False)
    with pytest.raises(ValueError, match="distinct"):
        label_tasks(TASKS, [ScriptedCoder(1), ScriptedCoder(1)], progress=False)


def test_samples_use_successive_seeds(tmp_path):
    cache = CompletionCache(tmp_path / "c.sqlite")
    coder = ScriptedCoder(1)
    label_tasks(TASKS[:1], [coder], n_samples=3, seed=7, temperature=0.5, max_tokens=99,
                cache=cache, progress=False)
    from skcomplexity.labeling import build_messages

    messages = build_messages(TASKS[0]["text"], TASKS[0]["test_list"])
    for seed in (7, 8, 9):
        key = cache_key(coder.name, coder.cache_params(), messages, temperature=0.5,
                        max_tokens=99, seed=seed)
        assert key in cache
    assert len(cache) == 3


def test_label_file_round_trip(tmp_path):
    result = label_tasks(TASKS, [ScriptedCoder(s) for s in (1, 2, 3)], n_samples=2,
                         progress=False)
    path = tmp_path / "labels.csv"
    result.to_csv(path)
    table = pd.read_csv(path)
    assert list(table.columns) == ["task_id", "prompt", "scripted:1", "scripted:2",
                                   "scripted:3", "n_samples", "level"]
    back = LabelingResult.from_csv(path)
    assert back.models == result.models and back.task_ids == result.task_ids
    assert back.prompts == result.prompts and back.n_samples == 2
    assert back.level_scheme == "paper" and back.records is None
    np.testing.assert_array_equal(back.levels, result.levels)
    np.testing.assert_allclose(back.outcomes, result.outcomes)
    pd.testing.assert_frame_equal(back.passes, result.passes, check_names=False,
                                  check_index_type=False)
    assert "scripted:1" in back.summary()
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a label file"):
        LabelingResult.from_csv(tmp_path / "bad.csv")


# ----------------------------------------------------------------------------- cache
def test_second_run_makes_no_call(tmp_path):
    ladder = [ScriptedCoder(1), ScriptedCoder(2)]
    first = label_tasks(TASKS, ladder, n_samples=2, cache=tmp_path / "c.sqlite",
                        drop_unsolved=False, progress=False)
    assert [b.calls for b in ladder] == [10, 10]
    again = [ScriptedCoder(1), ScriptedCoder(2)]
    second = label_tasks(TASKS, again, n_samples=2, cache=tmp_path / "c.sqlite",
                         drop_unsolved=False, progress=False)
    assert [b.calls for b in again] == [0, 0]
    assert second.records["cached"].all() and not first.records["cached"].any()
    pd.testing.assert_frame_equal(first.passes, second.passes)
    cols = ["task_id", "model", "sample", "passed", "status", "prompt_tokens",
            "completion_tokens"]
    pd.testing.assert_frame_equal(first.records[cols], second.records[cols])
    assert "0 made (0 failed), 20 served from cache" in second.summary()

    # Anything that changes the answer changes the key: a new sampling setting calls again.
    hotter = [ScriptedCoder(1)]
    label_tasks(TASKS, hotter, n_samples=2, temperature=1.0, cache=tmp_path / "c.sqlite",
                progress=False)
    assert hotter[0].calls == 10


def test_cached_cost_follows_current_prices(tmp_path):
    label_tasks(TASKS[:2], [ScriptedCoder(1, price_per_1k=1.0)], n_samples=1,
                cache=tmp_path / "c.sqlite", drop_unsolved=False, progress=False)
    repriced = label_tasks(TASKS[:2], [ScriptedCoder(1, price_per_1k=2.0)], n_samples=1,
                           cache=tmp_path / "c.sqlite", drop_unsolved=False, progress=False)
    records = repriced.records
    tokens = records["prompt_tokens"] + records["completion_tokens"]
    np.testing.assert_allclose(records["cost"], tokens * 2.0 / 1000)


def test_backend_errors_are_recorded_not_cached_and_retried(tmp_path):
    flaky = ScriptedCoder(1, fail_seeds=(1,))
    result = label_tasks(TASKS, [flaky], n_samples=2, cache=tmp_path / "c.sqlite",
                         drop_unsolved=False, progress=False)
    records = result.records
    errors = records[records["status"] == "error"]
    assert len(errors) == len(TASKS) and (errors["sample"] == 1).all()
    assert errors["reason"].str.startswith("backend: scripted outage").all()
    assert not errors["passed"].any() and not errors["cached"].any()
    assert "WARNING: 5 model calls failed" in result.summary()
    assert len(CompletionCache(tmp_path / "c.sqlite")) == len(TASKS)  # the failures are not

    healed = ScriptedCoder(1)
    resumed = label_tasks(TASKS, [healed], n_samples=2, cache=tmp_path / "c.sqlite",
                          drop_unsolved=False, progress=False)
    assert healed.calls == len(TASKS)  # exactly the failed calls, again
    assert (resumed.records["status"] != "error").all()
    np.testing.assert_array_equal(resumed.passes.to_numpy(), expected_passes([1], 2))


def test_cache_basics_and_pickle(tmp_path):
    path = tmp_path / "sub" / "c.sqlite"
    cache = CompletionCache(path)
    key = cache_key("m", {}, [{"role": "user", "content": "x"}], temperature=0.8,
                    max_tokens=8, seed=0)
    # Equal calls give equal keys whatever the numeric types.
    assert key == cache_key("m", {}, [{"role": "user", "content": "x"}],
                            temperature=np.float64(0.8), max_tokens=np.int64(8),
                            seed=np.int64(0))
    first = Completion("a", prompt_tokens=1, completion_tokens=1, cost=0.1,
                       finish_reason="stop")
    cache.put(key, first, backend="m")
    cache.put(key, Completion("b", 1, 1, 0.1))  # a racing second answer is ignored
    assert cache.get(key) == first
    clone = joblib.load(_dump(cache, tmp_path))
    assert clone.path == cache.path and clone.get(key) == first
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT backend FROM completions").fetchone()[0] == "m"


def _dump(obj, tmp_path):
    path = tmp_path / "obj.joblib"
    joblib.dump(obj, path)
    return path


def _write_many(path, start, n):
    cache = CompletionCache(path)
    for i in range(start, start + n):
        cache.put(f"key{i}", Completion(f"text{i}", 1, 1, 0.0))
    return n


def test_cache_concurrent_writers(tmp_path):
    """Threads and processes write one file at once; every answer is kept."""
    path = tmp_path / "c.sqlite"
    cache = CompletionCache(path, timeout=30)
    threads = [threading.Thread(target=_write_many, args=(path, 1000 * t, 50))
               for t in range(4)]
    for thread in threads:
        thread.start()
    done = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(_write_many)(path, 100_000 + 1000 * p, 50) for p in range(4))
    for thread in threads:
        thread.join()
    assert sum(done) == 200 and len(cache) == 400
    assert cache.get("key100049").text == "text100049"


def test_parallel_loky_matches_sequential(tmp_path):
    """Worker processes share the cache file and give the same table."""
    ladder = [ScriptedCoder(1), ScriptedCoder(2), ScriptedCoder(3)]
    sequential = label_tasks(TASKS, ladder, n_samples=2, progress=False, drop_unsolved=False)
    parallel = label_tasks(TASKS, ladder, n_samples=2, n_jobs=2, backend="loky",
                           cache=tmp_path / "c.sqlite", progress=False, drop_unsolved=False)
    pd.testing.assert_frame_equal(sequential.passes, parallel.passes)
    np.testing.assert_array_equal(sequential.levels, parallel.levels)
    assert len(CompletionCache(tmp_path / "c.sqlite")) == 30
    assert ladder[0].calls == 10  # the workers called their own copies


class SignedCoder(ScriptedCoder):
    """Signs each answer with its process and its instance (new at every unpickling)."""

    def __init__(self, skill):
        super().__init__(skill)
        self.instance = uuid.uuid4().hex

    def generate(self, messages, **kwargs):
        completion = super().generate(messages, **kwargs)
        signature = f"\n# signed {os.getpid()} {self.instance}"
        return self._completion(completion.text + signature, completion.prompt_tokens,
                                completion.completion_tokens)

    def __setstate__(self, state):
        super().__setstate__(state)
        self.instance = uuid.uuid4().hex


def test_each_worker_keeps_one_backend_per_model(tmp_path):
    """A worker reuses the backend (and so the loaded model) across the chunks it gets."""
    cache = tmp_path / "c.sqlite"
    result = label_tasks(TASKS, [SignedCoder(1), SignedCoder(2)], n_samples=2, n_jobs=2,
                         backend="loky", cache=cache, progress=False, drop_unsolved=False)
    np.testing.assert_array_equal(result.passes.to_numpy(), expected_passes([1, 2], 2))
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT backend, text FROM completions").fetchall()
    instances = {}
    for model, text in rows:
        pid, instance = text.rsplit("# signed ", 1)[1].split()
        instances.setdefault((model, pid), set()).add(instance)
    assert len(rows) == 20
    # 5 chunks per model went to at most 2 processes, each of which used one instance.
    assert all(len(found) == 1 for found in instances.values()), instances


@pytest.mark.slow
def test_dask_cluster_matches_sequential(tmp_path):
    distributed = pytest.importorskip("distributed")
    ladder = [ScriptedCoder(1), ScriptedCoder(2), ScriptedCoder(3)]
    sequential = label_tasks(TASKS, ladder, n_samples=2, progress=False, drop_unsolved=False)
    cache = tmp_path / "c.sqlite"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with joblib.parallel_config(backend="dask"):
            on_dask = label_tasks(TASKS, ladder, n_samples=2, cache=cache, progress=False,
                                  drop_unsolved=False)
        # Both workers took part.
        workers = client.run(lambda: os.getpid())
        assert len(workers) == 2
    pd.testing.assert_frame_equal(sequential.passes, on_dask.passes)
    np.testing.assert_array_equal(sequential.levels, on_dask.levels)
    cols = ["task_id", "model", "sample", "passed", "status"]
    pd.testing.assert_frame_equal(sequential.records[cols], on_dask.records[cols])
    assert len(CompletionCache(cache)) == 30 and ladder[0].calls == 10
    # The cluster wrote the cache: this process now answers from it without a call.
    rerun = [ScriptedCoder(1), ScriptedCoder(2), ScriptedCoder(3)]
    label_tasks(TASKS, rerun, n_samples=2, cache=cache, progress=False)
    assert [b.calls for b in rerun] == [0, 0, 0]


# ----------------------------------------------------------------------------- real models
@pytest.fixture(scope="session")
def local_ladder():
    """The two real local models, loaded once for the session."""
    pytest.importorskip("llama_cpp")
    from skcomplexity.labeling import make_backend

    ladder = [make_backend("llama:smollm2-135m", n_ctx=1024),
              make_backend("llama:gemma3-270m", n_ctx=1024)]
    for backend in ladder:
        backend.load()
    return ladder


@pytest.mark.slow
@pytest.mark.llm
def test_label_mbpp_with_local_models(tmp_path, data_home, local_ladder):
    from skcomplexity.datasets import fetch_mbpp

    tasks = load_tasks(fetch_mbpp(split="test"))[:3]
    cache = tmp_path / "c.sqlite"
    result = label_tasks(tasks, local_ladder, n_samples=2, max_tokens=128, cache=cache,
                         drop_unsolved=False, progress=False)
    models = ["llama:smollm2-135m", "llama:gemma3-270m"]
    assert result.models == models and result.task_ids == [11, 12, 13]
    assert result.passes.shape == (3, 2) and result.outcomes.shape == (3, 2)
    assert result.passes.dtypes.eq(np.int64).all() and result.outcomes.dtype == np.float64
    assert ((result.passes >= 0) & (result.passes <= 2)).all().all()
    np.testing.assert_array_equal(
        result.levels, cheapest_capable_levels(result.passes, n_samples=2, unsolved="keep"))
    records = result.records
    assert len(records) == 12 and not records["cached"].any()
    assert set(records["status"]) <= {"passed", "failed", "timeout", "error"}
    assert (records["status"] != "error").all() or \
        not records["reason"].str.startswith("backend: ").any()
    assert (records["prompt_tokens"] > 0).all() and (records["completion_tokens"] > 0).all()
    assert (records["completion_tokens"] <= 128).all()
    assert len(CompletionCache(cache)) == 12

    again = label_tasks(tasks, local_ladder, n_samples=2, max_tokens=128, cache=cache,
                        drop_unsolved=False, progress=False)
    assert again.records["cached"].all()
    pd.testing.assert_frame_equal(again.passes, result.passes)

    # Dropping unsolved tasks keeps exactly the rows where some sample passed.
    kept = label_tasks(tasks, local_ladder, n_samples=2, max_tokens=128, cache=cache,
                       progress=False)
    solved = result.passes.to_numpy().max(axis=1) > 0
    assert kept.task_ids == [t for t, s in zip(result.task_ids, solved) if s]
