"""
===================================================
Labeling MBPP tasks with two local llama.cpp models
===================================================

Complexity levels come from outcomes: a ladder of models answers each task several times,
every answer runs against the task's asserts in the sandbox, and the pass counts say which
model is enough. :func:`~skcomplexity.labeling.label_tasks` does all of it. Here the ladder is
two small real models that ship on PyPI as GGUF files and run on the CPU with llama.cpp:
SmolLM2-135M-Instruct (``llama:smollm2-135m``) and Gemma 3 270M (``llama:gemma3-270m``).
They are very weak coders, so expect few or no passes (the 270M Gemma often repeats its
instructions instead of writing code); the example shows the mechanics. A real labeling run
uses stronger models, for example through an OpenAI-compatible server
(``"openai:MODEL@http://HOST:PORT/v1"``).

To keep this example short: 3 easy MBPP tasks, 2 answers per model and task, answers of at
most 64 tokens.
"""

# %%
# Three MBPP tasks
# ----------------
# :func:`~skcomplexity.datasets.fetch_mbpp` reads MBPP from the data home
# (``SKCOMPLEXITY_DATA``); with ``download_if_missing=False`` it never goes to the network.
# We pick three short tasks of its test split.
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

from skcomplexity.datasets import fetch_mbpp
from skcomplexity.labeling import label_tasks

mbpp = fetch_mbpp(split="test", download_if_missing=False)
tasks = [
    {"task_id": int(mbpp.task_id[i]), "text": mbpp.data[i], "test_list": mbpp.tests[i],
     "test_setup_code": mbpp.setup[i]}
    for i in np.flatnonzero(np.isin(mbpp.task_id, [234, 257, 373]))
]
for task in tasks:
    print(task["task_id"], task["text"])
    print("   ", task["test_list"][0])

# %%
# Label them
# ----------
# Each answer is cached in a SQLite file under a key of everything that fixes it (model,
# messages, temperature, ``max_tokens``, seed): a second run, or a run resumed after a crash,
# asks the models for nothing it already has. With two models the levels are the
# cheapest-capable ones (:func:`~skcomplexity.cheapest_capable_levels`): 1 if SmolLM2 passes
# at least half of its answers, 2 if only Gemma does, 3 if neither does. ``drop_unsolved``
# is off so that the tasks no model solved stay in the table.
cache = os.path.join(tempfile.mkdtemp(), "completions.sqlite")
ladder = ["llama:smollm2-135m", "llama:gemma3-270m"]
result = label_tasks(tasks, ladder, n_samples=2, max_tokens=64, cache=cache,
                     drop_unsolved=False, progress=False)
print(result.summary())
print(result.passes)

# %%
# What the sandbox said about each answer
# ---------------------------------------
# ``records`` holds one row per (task, model, sample): whether it passed, the sandbox's
# status and reason, the tokens and whether the answer came from the cache.
print(result.records[["task_id", "model", "sample", "passed", "status", "reason"]]
      .to_string(index=False, max_colwidth=60))

# %%
# Run it again: everything comes from the cache
# ---------------------------------------------
again = label_tasks(tasks, ladder, n_samples=2, max_tokens=64, cache=cache,
                    drop_unsolved=False, progress=False)
print("answers served from the cache:", int(again.records["cached"].sum()), "of",
      len(again.records))
assert (again.passes.to_numpy() == result.passes.to_numpy()).all()

# %%
# Plot the outcome table, and why answers failed
# ----------------------------------------------
# Left: rows are tasks, columns models; each cell is the pass count out of 2 answers, and
# each task's level is written beside its row. Right: the sandbox's verdicts, grouped by
# kind. ``result.to_csv("labels.csv")`` would write the label file that
# ``skcomplexity fit --labels labels.csv`` reads.


def kind(record):
    if record.passed:
        return "passed"
    if "NameError" in record.reason:
        return "function missing (NameError)"
    if "failed: assert" in record.reason:
        return "wrong answer (assert failed)"
    return f"{record.status}: other"


records = result.records.assign(kind=[kind(r) for r in result.records.itertuples()])
verdicts = records.groupby(["model", "kind"]).size().unstack(fill_value=0)
verdicts = verdicts.reindex(result.models)

fig, (ax, ax_kind) = plt.subplots(1, 2, figsize=(11, 3.4),
                                  gridspec_kw={"width_ratios": [1, 1.2]})
counts = result.passes.to_numpy()
im = ax.imshow(counts, cmap="Greens", vmin=0, vmax=result.n_samples, aspect="auto")
for (i, j), value in np.ndenumerate(counts):
    ax.text(j, i, f"{value}/{result.n_samples}", ha="center", va="center")
short = [m.split(":")[1] for m in result.models]
ax.set_xticks(range(len(result.models)), short)
ax.set_yticks(range(len(result.task_ids)),
              [f"MBPP {t} (level {lv})" for t, lv in zip(result.task_ids, result.levels)])
ax.set_title("Passes per task and model (cheapest first)")
fig.colorbar(im, ax=ax, label="passed answers", ticks=range(result.n_samples + 1))

left = np.zeros(len(verdicts))
for column in verdicts.columns:
    ax_kind.barh(short, verdicts[column], left=left, label=column)
    left += verdicts[column].to_numpy()
ax_kind.set_xlabel("answers")
ax_kind.set_title("The sandbox's verdicts")
ax_kind.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
ax_kind.invert_yaxis()
fig.tight_layout()
plt.show()
