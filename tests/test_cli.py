"""Tests of the ``skcomplexity`` command: label (with real local models), fit, route."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import joblib
import numpy as np
import pandas as pd
import pytest

from skcomplexity.cli import default_costs, main, parse_task_ids
from skcomplexity.labeling import LabelingResult

LOCAL_MODELS = "llama:smollm2-135m,llama:gemma3-270m"


def run_cli(*args, env_data=None, check=True):
    """Run the installed command in a fresh process, as a user would."""
    env = dict(os.environ)
    if env_data is not None:
        env["SKCOMPLEXITY_DATA"] = env_data
    proc = subprocess.run([sys.executable, "-m", "skcomplexity.cli", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=1800)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def cache_rows(path):
    """key -> text of the completions in a cache file (empty while it does not exist)."""
    if not os.path.exists(path):
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return dict(db.execute("SELECT key, text FROM completions"))
    except sqlite3.OperationalError:  # created, table not yet
        return {}


def test_parse_task_ids_and_default_costs():
    assert parse_task_ids("11-13, 20,22-22") == [11, 12, 13, 20, 22]
    with pytest.raises(Exception, match="cannot read"):
        parse_task_ids("a-b")
    assert default_costs(1) == [1.0] and default_costs(4) == [1.0, 10.0, 100.0, 1000.0]


# ----------------------------------------------------------------------------- label
@pytest.mark.slow
@pytest.mark.llm
def test_label_twice_second_run_makes_no_model_call(tmp_path, data_home):
    out = tmp_path / "labels.csv"
    args = ["label", "--dataset", "mbpp", "--models", LOCAL_MODELS, "--samples", 1,
            "--task-ids", "11-13", "--max-tokens", 64, "--keep-unsolved", "--no-progress",
            "--records", tmp_path / "records.csv", "--prices", "0.001,0.01", "--out", out]
    first = run_cli(*args, env_data=data_home)
    assert "model calls: 6 made (0 failed), 0 served from cache" in first.stdout
    records = pd.read_csv(tmp_path / "records.csv")
    tokens = records["prompt_tokens"] + records["completion_tokens"]
    price = records["model"].map({"llama:smollm2-135m": 0.001, "llama:gemma3-270m": 0.01})
    np.testing.assert_allclose(records["cost"], tokens * price / 1000)
    table = pd.read_csv(out)
    assert list(table.columns) == ["task_id", "prompt", "llama:smollm2-135m",
                                   "llama:gemma3-270m", "n_samples", "level"]
    assert table["task_id"].tolist() == [11, 12, 13] and (table["n_samples"] == 1).all()
    assert table[["llama:smollm2-135m", "llama:gemma3-270m"]].isin([0, 1]).all().all()
    assert (tmp_path / "labels.csv.cache.sqlite").exists()  # the default cache path
    assert len(records) == 6

    second = run_cli(*args, env_data=data_home)
    assert "model calls: 0 made (0 failed), 6 served from cache" in second.stdout
    pd.testing.assert_frame_equal(pd.read_csv(out), table)


@pytest.mark.slow
@pytest.mark.llm
def test_label_resumes_after_kill_9(tmp_path, data_home):
    """SIGKILL mid-run loses no answer, and the re-run asks only for the missing ones."""
    out, cache = tmp_path / "labels.csv", tmp_path / "completions.sqlite"
    args = ["label", "--models", "llama:smollm2-135m", "--samples", 2, "--task-ids", "11-14",
            "--max-tokens", 64, "--cache", cache, "--no-progress", "--out", out]
    env = dict(os.environ, SKCOMPLEXITY_DATA=data_home)
    proc = subprocess.Popen([sys.executable, "-m", "skcomplexity.cli", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 600
        while len(cache_rows(cache)) < 2:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no completion cached in 10 minutes"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    before = cache_rows(cache)
    assert 2 <= len(before) < 8
    assert not out.exists()  # the label file is written only when complete

    resumed = run_cli(*args, env_data=data_home)
    n = len(before)
    assert f"model calls: {8 - n} made (0 failed), {n} served from cache" in resumed.stdout
    after = cache_rows(cache)
    assert len(after) == 8
    assert all(after[key] == text for key, text in before.items())  # nothing lost or redone
    assert out.exists()


def test_label_rejects_an_empty_selection(tmp_path, data_home, monkeypatch):
    monkeypatch.setenv("SKCOMPLEXITY_DATA", data_home)
    with pytest.raises(SystemExit, match="no task selected"):
        main(["label", "--models", "llama:smollm2-135m", "--task-ids", "5000-5001",
              "--out", str(tmp_path / "l.csv")])
    assert not (tmp_path / "l.csv").exists()


def test_label_jsonl_tasks_with_an_unreachable_server(tmp_path, capsys):
    """A backend that fails is recorded, not fatal, and nothing is cached for it."""
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"task_id": "t1", "text": "Add two numbers.",
                                 "test_list": ["assert add(1, 2) == 3"]}) + "\n")
    # Port 9 on localhost: nothing listens, so every attempt (with the backend's retries and
    # backoff) is refused at once.
    out, cache = tmp_path / "labels.csv", tmp_path / "c.sqlite"
    assert main(["label", "--dataset", str(tasks), "--models", "openai:m@http://127.0.0.1:9/v1",
                 "--samples", "1", "--keep-unsolved", "--no-progress", "--cache", str(cache),
                 "--records", str(tmp_path / "records.csv"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "model calls: 1 made (1 failed), 0 served from cache" in printed
    assert "WARNING: 1 model calls failed" in printed
    record = pd.read_csv(tmp_path / "records.csv").iloc[0]
    assert record["status"] == "error" and record["reason"].startswith("backend: ")
    assert "connection" in record["reason"].lower()
    assert len(cache_rows(cache)) == 0
    assert pd.read_csv(out)["task_id"].tolist() == ["t1"]


# ----------------------------------------------------------------------------- fit, route
@pytest.fixture()
def routerbench_labels(tmp_path, routerbench):
    """A label file built from RouterBench's graded answers (one sample per model)."""
    passes = pd.DataFrame(routerbench.outcomes.astype(int), columns=routerbench.models,
                          index=list(routerbench.sample_id))
    result = LabelingResult.from_passes(passes, prompts=routerbench.prompts, n_samples=1)
    path = tmp_path / "labels.csv"
    result.to_csv(path)
    return path, result


@pytest.mark.parametrize("strategy, extra", [("mapping", []),
                                             ("budget", ["--budget", "20"]),
                                             ("threshold", ["--costs", "1,5,50"])])
def test_fit_then_route_round_trip(tmp_path, capsys, routerbench_labels, strategy, extra):
    labels, result = routerbench_labels
    router_path = tmp_path / "router.joblib"
    assert main(["fit", "--labels", str(labels), "--strategy", strategy, "--estimator",
                 "tfidf", "--out", str(router_path), *extra]) == 0
    assert f"on {len(result.task_ids)} tasks" in capsys.readouterr().out
    router = joblib.load(router_path)
    assert list(router.models_) == result.models
    expected_costs = [1, 5, 50] if "--costs" in extra else [1, 10, 100]
    np.testing.assert_allclose(router.costs_, expected_costs)

    prompts = result.prompts[:3]
    assert main(["route", "--router", str(router_path), *prompts]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t", 1)[1] for line in lines] == prompts
    assert [line.split("\t")[0] for line in lines] == list(router.predict(prompts))
    assert all(line.split("\t")[0] in result.models for line in lines)


def test_route_reads_txt_and_jsonl_and_prints_json(tmp_path, capsys, routerbench_labels):
    labels, result = routerbench_labels
    router_path = tmp_path / "router.joblib"
    main(["fit", "--labels", str(labels), "--estimator", "tfidf", "--out", str(router_path)])
    capsys.readouterr()
    txt, jsonl = tmp_path / "p.txt", tmp_path / "p.jsonl"
    txt.write_text("Add two numbers.\n\nSort a list.\n")
    jsonl.write_text(json.dumps({"prompt": "Reverse a string."}) + "\n"
                     + json.dumps({"text": "Parse JSON."}) + "\n")
    main(["route", "--router", str(router_path), "--input", str(txt), "--json"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["prompt"] for r in rows] == ["Add two numbers.", "Sort a list."]
    assert all(r["model"] in result.models for r in rows)
    main(["route", "--router", str(router_path), "--input", str(jsonl), "Extra one."])
    out = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[1] for line in out] == ["Extra one.", "Reverse a string.",
                                                     "Parse JSON."]
    # The installed command, in its own process.
    proc = run_cli("route", "--router", router_path, "Add two numbers.")
    assert proc.stdout.split("\t")[0] in result.models


def test_fit_rejects_mismatched_costs(tmp_path, routerbench_labels):
    labels, _ = routerbench_labels
    with pytest.raises(SystemExit, match="2 costs for 3 models"):
        main(["fit", "--labels", str(labels), "--costs", "1,2",
              "--out", str(tmp_path / "r.joblib")])


@pytest.mark.slow
def test_fit_default_classifier(tmp_path, capsys, routerbench_labels):
    """The default ComplexityClassifier (real sentence embeddings + LightGBM)."""
    labels, result = routerbench_labels
    router_path = tmp_path / "router.joblib"
    assert main(["fit", "--labels", str(labels), "--out", str(router_path)]) == 0
    capsys.readouterr()
    main(["route", "--router", str(router_path), "--json", *result.prompts[:2]])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2 and all(r["model"] in result.models for r in rows)


def test_evaluate_is_forwarded_or_reported(capsys):
    try:
        import skcomplexity.evaluation  # noqa: F401
    except ImportError:
        assert main(["evaluate", "--help"]) == 2
        assert "skcomplexity.evaluation is not available" in capsys.readouterr().err
    else:
        # Forwarded untouched: the evaluation module's own parser answers --help.
        with pytest.raises(SystemExit) as exit_info:
            main(["evaluate", "--help"])
        assert exit_info.value.code == 0
        assert "skcomplexity evaluate" in capsys.readouterr().out


def test_help_lists_every_command():
    proc = run_cli("--help")
    for command in ("label", "fit", "route", "evaluate"):
        assert command in proc.stdout
