"""Label coding tasks by running a ladder of models on them: :func:`label_tasks`.

The ComplexityNet recipe (Bae et al., 2023): ask every model of a ladder, cheapest first,
``n_samples`` times per task at a non-zero temperature, run each answer against the task's
asserts, count the passes, and turn the pass counts into complexity levels. Tasks that no
model solves are dropped: they say nothing about which model is enough.

One *work unit* is (task, model, sample). Units go to joblib in chunks of one task and one
model (its samples), ordered model by model, so that a worker process loads a model once and
keeps it for every chunk it gets (see :func:`_worker_backend`). Every completion passes through
the :class:`~skcomplexity.labeling.cache.CompletionCache` and is committed as soon as it
arrives, so an interrupted run resumes where it stopped.

Under loky, a worker whose memory grew by more than 300 MB since its first task is replaced
(loky's leak guard). Loading a second large model counts as such growth, so at the switch
from one model to the next a worker may be recycled once and load the new model afresh; as
the work is ordered model by model, this frees the previous model rather than costing a load
per chunk.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..labels import cheapest_capable_levels, paper_levels
from .backends import BackendError, make_backend
from .cache import CompletionCache, cache_key
from .prompting import build_messages, entry_point, extract_code

__all__ = ["LabelingResult", "label_tasks", "load_tasks"]

RECORD_COLUMNS = ["task_id", "model", "sample", "passed", "status", "reason", "prompt_tokens",
                  "completion_tokens", "cost", "cached"]

# Backends already used by this process, by the joblib hash of their pickled state (which
# leaves the loaded model out). A worker receives a fresh unpickled copy with every chunk;
# looking it up here lets it reuse the model it loaded for an earlier chunk instead of loading
# it again. Models that the current run does not use are let go (see _worker_backend), and
# the parent removes its own entries at the end of a run.
_WORKER_BACKENDS: dict = {}
_WORKER_LOCK = threading.Lock()  # joblib's threading backend runs chunks side by side


# ------------------------------------------------------------------------------ tasks
def _task_from_mapping(row):
    try:
        return {
            "task_id": row["task_id"],
            "text": row["text"] if "text" in row else row["prompt"],
            "test_list": list(row["test_list"]),
            "test_setup_code": row.get("test_setup_code") or "",
        }
    except KeyError as exc:
        raise ValueError(
            f"A task lacks the field {exc.args[0]!r}; tasks need 'task_id', 'text' (or "
            "'prompt') and 'test_list', and may have 'test_setup_code'."
        ) from None


def load_tasks(tasks):
    """Normalise tasks into a list of dicts with MBPP's fields.

    Parameters
    ----------
    tasks : Bunch, list of dict, DataFrame, or str or path-like
        A Bunch from :func:`~skcomplexity.datasets.fetch_mbpp` (``data``, ``tests``,
        ``setup``, ``task_id``); dicts or DataFrame rows with ``task_id``, ``text`` (or
        ``prompt``), ``test_list`` and optionally ``test_setup_code``; or the path of a JSONL
        file of such dicts (MBPP's own format).

    Returns
    -------
    tasks : list of dict
        Each with ``task_id``, ``text``, ``test_list`` and ``test_setup_code``.

    Raises
    ------
    ValueError
        If a task lacks a field, or two tasks share a ``task_id``.

    Examples
    --------
    >>> load_tasks([{"task_id": 1, "prompt": "Add two numbers.",
    ...              "test_list": ["assert add(1, 2) == 3"]}])
    [{'task_id': 1, 'text': 'Add two numbers.', 'test_list': ['assert add(1, 2) == 3'],
      'test_setup_code': ''}]
    """
    if isinstance(tasks, (str, os.PathLike)):
        with open(tasks, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
    elif isinstance(tasks, pd.DataFrame):
        rows = tasks.to_dict("records")
    elif hasattr(tasks, "tests") and hasattr(tasks, "data"):  # a dataset Bunch
        setup = tasks.get("setup") or [""] * len(tasks.data)
        ids = tasks.get("task_id")
        ids = range(len(tasks.data)) if ids is None else ids
        rows = [
            {"task_id": _scalar(i), "text": text, "test_list": tests, "test_setup_code": s}
            for i, text, tests, s in zip(ids, tasks.data, tasks.tests, setup)
        ]
    else:
        rows = list(tasks)
    out = [_task_from_mapping(row) for row in rows]
    ids = [task["task_id"] for task in out]
    if len(set(ids)) != len(ids):
        raise ValueError("Two tasks share a task_id; task ids key the outcome table.")
    return out


def _scalar(value):
    # numpy integers print and serialise badly in JSON; plain ints key the records.
    return value.item() if isinstance(value, np.generic) else value


# ------------------------------------------------------------------------------ workers
def _worker_backend(key, backend, run_keys):
    """The backend to use for a chunk: one already loaded by this process, if any.

    Workers outlive a run (loky keeps its pool, a dask cluster its workers): models of
    earlier runs that this run does not use are dropped, so that they do not pile up.
    """
    with _WORKER_LOCK:
        for stale in [k for k in _WORKER_BACKENDS if k not in run_keys]:
            del _WORKER_BACKENDS[stale]
        return _WORKER_BACKENDS.setdefault(key, backend)


def _run_chunk(backend_key, run_keys, backend, cache, task, units, *, temperature,
               max_tokens, timeout, bind_name):
    """Answer and test the samples of one task with one model; return their records.

    ``units`` are ``(sample, seed, key)`` triples. Runs in a joblib worker.
    """
    from ..sandbox import run_tests

    backend = _worker_backend(backend_key, backend, run_keys)
    messages = build_messages(task["text"], task["test_list"])
    name = entry_point(task["test_list"])
    records = []
    for sample, seed, key in units:
        record = {"task_id": task["task_id"], "model": backend.name, "sample": sample}
        completion = cache.get(key) if cache is not None else None
        cached = completion is not None
        if cached:
            # Prices are not in the key: the cost follows the backend's prices of today.
            completion = replace(completion, cost=float(
                backend.cost(completion.prompt_tokens, completion.completion_tokens)))
        else:
            try:
                completion = backend.generate(messages, temperature=temperature,
                                              max_tokens=max_tokens, seed=seed)
            except BackendError as exc:
                # Recorded, never cached: a resumed run asks again.
                records.append({**record, "passed": False, "status": "error",
                                "reason": f"backend: {exc}", "prompt_tokens": 0,
                                "completion_tokens": 0, "cost": 0.0, "cached": False})
                continue
            if cache is not None:
                cache.put(key, completion, backend=backend.name)
        code = extract_code(completion.text, entry_point=name, bind_name=bind_name)
        result = run_tests(code, task["test_list"], setup=task["test_setup_code"],
                           timeout=timeout)
        records.append({**record, "passed": bool(result.passed), "status": result.status,
                        "reason": result.reason, "prompt_tokens": completion.prompt_tokens,
                        "completion_tokens": completion.completion_tokens,
                        "cost": completion.cost, "cached": cached})
    return records


# ------------------------------------------------------------------------------ result
@dataclass
class LabelingResult:
    """Outcome table and complexity labels of a set of tasks.

    Attributes
    ----------
    task_ids : list
        The kept tasks, in input order.
    prompts : list of str
        Their instructions, the text a router sees.
    models : list of str
        Backend names, cheapest first: the columns of ``passes`` and ``outcomes``.
    n_samples : int
        Answers sampled per task and model.
    passes : DataFrame of shape (n_tasks, n_models)
        Pass counts, indexed by ``task_id``.
    outcomes : ndarray of shape (n_tasks, n_models)
        Pass rates, ``passes / n_samples``.
    levels : ndarray of int of shape (n_tasks,)
        Complexity levels (:func:`~skcomplexity.labels.paper_levels` or
        :func:`~skcomplexity.labels.cheapest_capable_levels`).
    level_scheme : str
        ``"paper"`` or ``"cheapest"``.
    records : DataFrame or None
        One row per (task, model, sample) with ``task_id, model, sample, passed, status,
        reason, prompt_tokens, completion_tokens, cost, cached``, for every task (dropped
        ones too). None when read back from a label file.
    dropped_task_ids : list
        Tasks no model solved, left out of the table.
    elapsed : float
        Wall-clock seconds of the run (0 when read from a file).

    Examples
    --------
    >>> import pandas as pd
    >>> passes = pd.DataFrame({"small": [3, 0], "large": [3, 2]}, index=[11, 12])
    >>> result = LabelingResult.from_passes(passes, prompts=["Add.", "Sort."], n_samples=3)
    >>> result.levels
    array([1, 2])
    >>> result.outcomes
    array([[1.  , 1.  ],
           [0.  , 0.67]])
    """

    task_ids: list
    prompts: list
    models: list
    n_samples: int
    passes: pd.DataFrame
    outcomes: np.ndarray
    levels: np.ndarray
    level_scheme: str
    records: pd.DataFrame | None = None
    dropped_task_ids: list = field(default_factory=list)
    elapsed: float = 0.0

    @classmethod
    def from_passes(cls, passes, *, prompts, n_samples, levels="auto", threshold=0.5,
                    drop_unsolved=True, records=None, elapsed=0.0):
        """Build a result from a pass-count table (rows = tasks, columns = models).

        Parameters
        ----------
        passes : DataFrame of shape (n_tasks, n_models)
            Pass counts indexed by task id, models cheapest first.
        prompts : list of str
            One per row of ``passes``.
        n_samples : int
        levels, threshold, drop_unsolved
            As in :func:`label_tasks`.
        records : DataFrame, optional
        elapsed : float, default=0.0

        Returns
        -------
        result : LabelingResult
        """
        models = [str(m) for m in passes.columns]
        scheme = _level_scheme(levels, len(models))
        counts = passes.to_numpy()
        unsolved = "drop" if drop_unsolved else "keep"
        if scheme == "paper":
            level_values, solved = paper_levels(counts, n_samples=n_samples, unsolved=unsolved,
                                                return_mask=True)
        else:
            level_values, solved = cheapest_capable_levels(
                counts, threshold=threshold, n_samples=n_samples, unsolved=unsolved,
                return_mask=True)
        keep = solved if drop_unsolved else np.ones(len(passes), dtype=bool)
        kept = passes[keep]
        return cls(
            task_ids=list(kept.index),
            prompts=[p for p, k in zip(prompts, keep) if k],
            models=models,
            n_samples=int(n_samples),
            passes=kept,
            outcomes=kept.to_numpy(dtype=float) / n_samples,
            levels=np.asarray(level_values, dtype=int),
            level_scheme=scheme,
            records=records,
            dropped_task_ids=list(passes.index[~keep]),
            elapsed=float(elapsed),
        )

    # -------------------------------------------------------------- the label file
    def to_csv(self, path):
        """Write the label file: one row per task.

        Columns: ``task_id``, ``prompt``, one pass-count column per model (named by the
        backend's name, cheapest first), ``n_samples`` and ``level``. The raw records are not
        written (see :attr:`records`; save them with ``records.to_csv`` if wanted).

        Parameters
        ----------
        path : str or path-like

        Examples
        --------
        >>> import os, tempfile, pandas as pd
        >>> passes = pd.DataFrame({"small": [3, 0], "large": [3, 2]}, index=[11, 12])
        >>> result = LabelingResult.from_passes(passes, prompts=["Add.", "Sort."],
        ...                                     n_samples=3)
        >>> path = os.path.join(tempfile.mkdtemp(), "labels.csv")
        >>> result.to_csv(path)
        >>> print(open(path).read())
        task_id,prompt,small,large,n_samples,level
        11,Add.,3,3,3,1
        12,Sort.,0,2,3,2
        <BLANKLINE>
        >>> back = LabelingResult.from_csv(path)
        >>> back.models, back.levels.tolist(), back.level_scheme
        (['small', 'large'], [1, 2], 'cheapest')
        """
        table = pd.DataFrame({"task_id": self.task_ids, "prompt": self.prompts})
        for model in self.models:
            table[model] = self.passes[model].to_numpy()
        table["n_samples"] = self.n_samples
        table["level"] = self.levels
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Written aside then renamed: a killed run never leaves half a label file.
        tmp = Path(f"{path}.{os.getpid()}.tmp")
        table.to_csv(tmp, index=False)
        os.replace(tmp, path)

    @classmethod
    def from_csv(cls, path):
        """Read a label file written by :meth:`to_csv`.

        The model columns are those between ``prompt`` and ``n_samples``, in order. The
        levels are read as written; ``level_scheme`` is inferred (``"paper"`` if they equal
        :func:`~skcomplexity.labels.paper_levels` of the counts, else ``"cheapest"``).

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        result : LabelingResult
            With ``records=None``.
        """
        table = pd.read_csv(path, keep_default_na=False)
        columns = list(table.columns)
        try:
            first, last = columns.index("prompt") + 1, columns.index("n_samples")
        except ValueError:
            raise ValueError(f"{path} is not a label file: it needs the columns task_id, "
                             "prompt, <one per model>, n_samples, level.") from None
        models = columns[first:last]
        if not models or "level" not in columns or "task_id" not in columns:
            raise ValueError(f"{path} is not a label file: no model columns between 'prompt' "
                             "and 'n_samples', or no 'task_id'/'level' column.")
        n_samples = int(table["n_samples"].iloc[0]) if len(table) else 1
        passes = table[models].astype(int)
        passes.index = pd.Index(table["task_id"].tolist(), name="task_id")
        levels = table["level"].to_numpy(dtype=int)
        scheme = "cheapest"
        if len(models) == 3 and len(table):
            paper = paper_levels(passes.to_numpy(), n_samples=n_samples, unsolved="keep")
            scheme = "paper" if np.array_equal(paper, levels) else "cheapest"
        return cls(task_ids=list(passes.index), prompts=table["prompt"].astype(str).tolist(),
                   models=models, n_samples=n_samples, passes=passes,
                   outcomes=passes.to_numpy(dtype=float) / n_samples, levels=levels,
                   level_scheme=scheme)

    # -------------------------------------------------------------- reporting
    def summary(self):
        """A human-readable report: pass rates, levels, calls made and served, tokens, cost.

        Returns
        -------
        text : str
        """
        lines = []
        records = self.records
        n_tasks = len(self.task_ids) + len(self.dropped_task_ids)
        lines.append(f"tasks: {n_tasks} labelled, {len(self.task_ids)} kept, "
                     f"{len(self.dropped_task_ids)} dropped as unsolved by every model; "
                     f"{self.n_samples} samples per task and model")
        lines.append("pass rate per model (all samples of all tasks):")
        for model in self.models:
            if records is not None and len(records):
                rate = records.loc[records["model"] == model, "passed"].mean()
            else:
                rate = self.outcomes[:, self.models.index(model)].mean() if len(self.task_ids) \
                    else float("nan")
            lines.append(f"  {model:<40} {rate:6.1%}")
        counts = pd.Series(self.levels).value_counts().sort_index()
        levels = ", ".join(f"{level}: {count}" for level, count in counts.items()) or "none"
        lines.append(f"levels ({self.level_scheme}): {levels}")
        if records is not None:
            errors = int((records["reason"].str.startswith("backend: ")).sum())
            served = int(records["cached"].sum())
            made = len(records) - served
            lines.append(f"model calls: {made} made ({errors} failed), {served} served from "
                         "cache")
            fresh = records[~records["cached"]]
            lines.append(
                f"tokens: {int(records['prompt_tokens'].sum())} prompt + "
                f"{int(records['completion_tokens'].sum())} completion in all answers; "
                f"{int(fresh['prompt_tokens'].sum() + fresh['completion_tokens'].sum())} "
                "generated by this run's calls")
            lines.append(f"cost: {records['cost'].sum():.6g} for all answers, "
                         f"{fresh['cost'].sum():.6g} spent by this run")
            status = records["status"].value_counts()
            lines.append("sandbox: " + ", ".join(f"{k} {v}" for k, v in status.items()))
            if errors:
                lines.append(f"WARNING: {errors} model calls failed; they count as failures "
                             "in the table, and a re-run retries them.")
        if self.elapsed:
            lines.append(f"elapsed: {self.elapsed:.1f} s")
        return "\n".join(lines)


def _level_scheme(levels, n_models):
    if levels == "auto":
        return "paper" if n_models == 3 else "cheapest"
    if levels == "paper":
        if n_models != 3:
            raise ValueError(f"levels='paper' needs a ladder of 3 models, got {n_models}; use "
                             "levels='cheapest' (or 'auto').")
        return "paper"
    if levels == "cheapest":
        return "cheapest"
    raise ValueError(f"levels must be 'auto', 'paper' or 'cheapest', got {levels!r}.")


# ------------------------------------------------------------------------------ driver
def label_tasks(tasks, backends, *, n_samples=5, temperature=0.8, max_tokens=512, seed=0,
                cache=None, n_jobs=None, backend=None, timeout=10.0, levels="auto",
                threshold=0.5, drop_unsolved=True, bind_name=False, progress=True):
    """Run a ladder of models on coding tasks and label each task's complexity.

    For every task, model and sample ``i``: build the messages
    (:func:`~skcomplexity.labeling.prompting.build_messages`), get a completion with seed
    ``seed + i`` (from the cache when it holds one), extract the code and run it against
    the task's asserts in the sandbox (:func:`~skcomplexity.sandbox.run_tests`). Pass counts
    become complexity levels.

    Parameters
    ----------
    tasks : Bunch, list of dict, DataFrame or path
        See :func:`load_tasks`.
    backends : list of Backend or str
        The ladder, cheapest first: backends or spec strings for
        :func:`~skcomplexity.labeling.backends.make_backend`. Names must be distinct.
    n_samples : int, default=5
        Answers per task and model (the paper's k).
    temperature : float, default=0.8
        Sampling temperature; must be above 0 for samples to differ.
    max_tokens : int, default=512
        Upper bound on each answer's length.
    seed : int, default=0
        Sample ``i`` is generated with seed ``seed + i``: samples differ, and a re-run
        reproduces them (a local backend exactly; a remote one as far as it honours seeds).
    cache : CompletionCache, str, path or None, default=None
        Completion cache, or the path of its SQLite file. None caches nothing.
    n_jobs : int, default=None
        Parallel jobs for joblib; None takes the value from :func:`joblib.parallel_config`
        (1 outside one). Local models are CPU-bound: on a machine with C cores, ``n_jobs``
        times the model's threads (llama.cpp's default is half the cores) should not exceed
        C. Under ``parallel_config(backend="dask")`` the work is spread over the cluster's
        workers, whatever ``n_jobs`` says.
    backend : str, default=None
        joblib backend (``"loky"``, ``"threading"``, ``"dask"``...); None takes the active
        one (:func:`joblib.parallel_config`, default loky).
    timeout : float, default=10.0
        Seconds allowed to each sandboxed test run.
    levels : {"auto", "paper", "cheapest"}, default="auto"
        ``"paper"``: :func:`~skcomplexity.labels.paper_levels` (needs 3 models);
        ``"cheapest"``: :func:`~skcomplexity.labels.cheapest_capable_levels`; ``"auto"``:
        the paper's for 3 models, else the cheapest-capable ones.
    threshold : float, default=0.5
        Pass rate at which a model counts as capable (``"cheapest"`` levels).
    drop_unsolved : bool, default=True
        Drop tasks that no model solved in any sample, as the paper does.
    bind_name : bool, default=False
        Bind the tested name to a model's renamed function
        (:func:`~skcomplexity.labeling.prompting.extract_code`). False is the paper's strict
        rule: the function must have the name asked for.
    progress : bool, default=True
        Show a tqdm progress bar of the finished (task, model, sample) units.

    Returns
    -------
    result : LabelingResult
        ``records``, ``passes``, ``outcomes``, ``levels``, ``task_ids``, ``prompts``,
        ``models``; :meth:`~LabelingResult.to_csv` writes the label file and
        :meth:`~LabelingResult.summary` reports the run.

    Notes
    -----
    A backend that fails after its own retries (:class:`~skcomplexity.labeling.backends.
    BackendError`) makes a record with status ``"error"`` and a reason starting with
    ``"backend: "``; it counts as a failed sample, is not cached, and a re-run asks again.
    Any other exception (a missing model file, a bug) stops the run; completions received
    until then are in the cache.

    Examples
    --------
    A ladder of two real local models on one MBPP-style task (the first call loads them):

    >>> from skcomplexity.labeling import label_tasks
    >>> tasks = [{"task_id": 1, "text": "Write a function to add two numbers.",
    ...           "test_list": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]}]
    >>> result = label_tasks(tasks, ["llama:smollm2-135m", "llama:gemma3-270m"], n_samples=2,
    ...                      max_tokens=48, drop_unsolved=False, progress=False)
    >>> result.passes.shape, result.models
    ((1, 2), ['llama:smollm2-135m', 'llama:gemma3-270m'])
    >>> result.records[["model", "sample", "cached"]].values.tolist()
    [['llama:smollm2-135m', 0, False], ['llama:smollm2-135m', 1, False],
     ['llama:gemma3-270m', 0, False], ['llama:gemma3-270m', 1, False]]
    """
    from joblib import Parallel, delayed, hash as joblib_hash
    from tqdm.auto import tqdm

    start = time.monotonic()
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
    task_list = load_tasks(tasks)
    ladder = [make_backend(b) for b in backends]
    names = [b.name for b in ladder]
    if not ladder or len(set(names)) != len(names):
        raise ValueError(f"backends must be a non-empty ladder of distinct models, got {names}.")
    _level_scheme(levels, len(ladder))  # fail before any call, not after an hour of them
    if cache is not None and not isinstance(cache, CompletionCache):
        cache = CompletionCache(cache)

    # Keys and backend identities are computed here, once: cache_params may hash a model
    # file, and workers need not repeat it.
    params = [b.cache_params() for b in ladder]
    backend_keys = [joblib_hash(b) for b in ladder]
    run_keys = frozenset(backend_keys)
    jobs = []  # (model index, task, units), model by model so workers keep a model loaded
    for m, b in enumerate(ladder):
        for task in task_list:
            messages = build_messages(task["text"], task["test_list"])
            units = [
                (i, seed + i, cache_key(b.name, params[m], messages, temperature=temperature,
                                        max_tokens=max_tokens, seed=seed + i))
                for i in range(n_samples)
            ]
            jobs.append((m, task, units))

    records = []
    total = len(jobs) * n_samples
    try:
        with tqdm(total=total, desc="labeling", unit="answer", disable=not progress) as bar:
            parallel = Parallel(n_jobs=n_jobs, backend=backend,
                                return_as="generator_unordered")
            outputs = parallel(
                delayed(_run_chunk)(backend_keys[m], run_keys, ladder[m], cache, task, units,
                                    temperature=temperature, max_tokens=max_tokens,
                                    timeout=timeout, bind_name=bind_name)
                for m, task, units in jobs
            )
            for chunk in outputs:
                records.extend(chunk)
                bar.update(len(chunk))
    finally:
        # Workers keep their models for the next chunk; this process lets go of them.
        with _WORKER_LOCK:
            for key in backend_keys:
                _WORKER_BACKENDS.pop(key, None)

    order = {tid: i for i, tid in enumerate(t["task_id"] for t in task_list)}
    frame = pd.DataFrame.from_records(records, columns=RECORD_COLUMNS)
    frame["_task"] = frame["task_id"].map(order)
    frame["_model"] = frame["model"].map({n: i for i, n in enumerate(names)})
    frame = (frame.sort_values(["_task", "_model", "sample"], kind="stable")
             .drop(columns=["_task", "_model"]).reset_index(drop=True))
    frame = frame.astype({"sample": int, "passed": bool, "prompt_tokens": int,
                          "completion_tokens": int, "cost": float, "cached": bool})

    passes = (frame.pivot_table(index="task_id", columns="model", values="passed",
                                aggfunc="sum", sort=False)
              .reindex(index=[t["task_id"] for t in task_list], columns=names)
              .fillna(0).astype(int))
    passes.columns.name = None
    return LabelingResult.from_passes(
        passes, prompts=[t["text"] for t in task_list], n_samples=n_samples, levels=levels,
        threshold=threshold, drop_unsolved=drop_unsolved, records=frame,
        elapsed=time.monotonic() - start)
