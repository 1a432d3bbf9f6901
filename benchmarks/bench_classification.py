"""Benchmark: can a task's complexity level be predicted from its instruction alone?

The analogue of ComplexityNet's headline (Bae et al., 2023): a fine-tuned small model reached
79% accuracy on 5 complexity levels against 34% for the same model not fine-tuned. Here, on
real pass rates (no LLM is called to make labels):

Label sets
----------
``routerdc-8``
    RouterDC's MBPP table (500 questions, 7 open 7-8B LLMs, 10 samples each). The 7 models
    have no prices, so they are ordered weakest -> strongest by mean pass rate and
    :func:`skcomplexity.labels.cheapest_capable_levels` (``threshold=0.5``) gives 8 levels:
    level k = the k-th weakest model is the first to pass >= 50% of its samples; level 8 =
    none does (unsolved tasks kept, as a router must handle them).
``routerdc-paper5``
    The 5-level variant closest to the paper: a 3-model ladder (the weakest, the median and
    the strongest of the 7, mirroring Code Llama / GPT-3.5 / GPT-4) labelled with
    :func:`skcomplexity.labels.paper_levels` on their pass rates (10 samples, the rate is what
    ``paper_levels`` looks at; ``reliable=0.8`` = 8 of 10, the paper's 4 of 5), tasks that
    none of the three ever solves dropped as in the paper. We prefer this to cutting the 8
    levels into 5 quantile bins because it keeps the paper's meaning of each level (which
    model, how reliably) rather than an arbitrary binning.
``labels:<file>``
    A label file written by ``skcomplexity label ... --out labels.csv`` (``--labels FILE``):
    its ``prompt`` and ``level`` columns as written.

Models (same stratified folds, fixed seed)
------------------------------------------
majority level; TF-IDF + logistic regression; MiniLM embeddings + LightGBM
(:class:`~skcomplexity.ComplexityClassifier`); MiniLM fine-tuned end to end
(:class:`~skcomplexity.finetune.FineTunedClassifier`, cross-entropy, ``--epochs``); and the
paper's "not fine-tuned" baseline: a small instruct LLM (SmolLM2-135M, Gemma 3 270M, both
real GGUF models through llama.cpp) asked zero-shot for a 1-5 rating at temperature 0. Its
first digit 1-5 is mapped linearly onto the label range (1 -> lowest level, 5 -> highest);
an answer without such a digit counts as the training fold's majority level and is reported.
The LLMs learn nothing, so the fold only decides which prompts they are scored on; with
``--llm-limit`` they answer a fixed stratified subset only (each call costs ~2 s on a loaded
2-core machine), and their row says how many prompts were scored.

Usage::

    cd /work/main && SKCOMPLEXITY_DATA=/work/shared/data python3 benchmarks/bench_classification.py
    ... benchmarks/bench_classification.py --labels labels.csv      # also a label file
    ... benchmarks/bench_classification.py --quick --out /tmp/x     # smoke run

Writes ``classification.md`` and ``classification_confusion.png`` into ``--out``
(default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    RESULTS, cross_validate_levels, data_home, level_metrics, machine, md_table,
    routerdc_ladder, versions)

RATING_INSTRUCTION = (
    "Rate how hard this programming task is for a language model from 1 (easy) to 5 "
    "(very hard). Answer with one digit."
)
LLMS = {"SmolLM2-135M-Instruct": "llama:smollm2-135m", "Gemma 3 270M-it": "llama:gemma3-270m"}
_DIGIT = re.compile(r"[1-5]")


# ----------------------------------------------------------------------------- label sets
def label_sets(args):
    """Name -> (texts, levels, description)."""
    from skcomplexity.labels import cheapest_capable_levels, paper_levels

    texts, outcomes, models = routerdc_ladder(data_home(args.data_home), args.text)
    sets = {}
    levels8 = cheapest_capable_levels(outcomes, threshold=0.5)
    sets["routerdc-8"] = (
        texts, levels8,
        f"RouterDC MBPP, {len(texts)} tasks, 7-model ladder weakest->strongest by mean pass "
        f"rate ({', '.join(m.split('/')[-1] for m in models)}), cheapest-capable levels at "
        "threshold 0.5, 8 levels (8 = no model passes half its samples).",
    )
    trio = [0, len(models) // 2, len(models) - 1]
    levels5, solved = paper_levels(outcomes[:, trio], n_samples=None, unsolved="drop",
                                   return_mask=True)
    sets["routerdc-paper5"] = (
        [t for t, s in zip(texts, solved) if s], levels5,
        f"RouterDC MBPP, 3-model ladder {', '.join(models[i].split('/')[-1] for i in trio)} "
        f"(weakest, median, strongest), paper_levels (reliable = 8/10), tasks none of the "
        f"three solves dropped: {int(solved.sum())} of {len(texts)} tasks, 5 levels.",
    )
    if args.labels:
        sets[f"labels:{Path(args.labels).name}"] = read_label_file(args.labels)
        if "labels" in args.finetune_on:
            args.finetune_on = list(args.finetune_on) + [f"labels:{Path(args.labels).name}"]
    if args.quick:
        rng = np.random.default_rng(args.seed)
        for name, (t, y, d) in list(sets.items()):
            keep = _stratified_subset(y, args.quick_rows, rng)
            sets[name] = ([t[i] for i in keep], y[keep], d + f" QUICK: {len(keep)} rows.")
    return sets


def read_label_file(path):
    """(prompts, levels, description) from a ``skcomplexity label`` CSV, defensively."""
    import pandas as pd

    try:
        from skcomplexity.labeling import LabelingResult

        res = LabelingResult.from_csv(path)
        prompts, levels, models = list(res.prompts), np.asarray(res.levels, dtype=int), res.models
        n_samples = res.n_samples
    except Exception as exc:  # noqa: BLE001 - fall back to reading the columns ourselves
        print(f"LabelingResult.from_csv failed ({exc}); reading {path} with pandas", file=sys.stderr)
        table = pd.read_csv(path, keep_default_na=False)
        text_col = next((c for c in ("prompt", "text", "instruction") if c in table), None)
        if text_col is None or "level" not in table:
            raise ValueError(f"{path}: need a prompt/text column and a level column") from exc
        prompts = table[text_col].astype(str).tolist()
        levels = pd.to_numeric(table["level"], errors="coerce").to_numpy()
        keep = ~np.isnan(levels)
        prompts = [p for p, k in zip(prompts, keep) if k]
        levels = levels[keep].astype(int)
        models, n_samples = "?", table["n_samples"].iloc[0] if "n_samples" in table else "?"
    desc = (f"label file {path}: {len(prompts)} tasks, models {', '.join(map(str, models))}, "
            f"{n_samples} samples each, levels as written in the file.")
    return prompts, levels, desc


def _stratified_subset(y, n, rng):
    """Indices of about ``n`` rows keeping each level's share (every level at least 2 rows)."""
    if n >= len(y):
        return np.arange(len(y))
    out = []
    for level in np.unique(y):
        idx = np.flatnonzero(y == level)
        take = max(2, int(round(n * len(idx) / len(y))))
        out.extend(rng.choice(idx, size=min(take, len(idx)), replace=False))
    return np.sort(np.asarray(out))


# ----------------------------------------------------------------------------- zero-shot LLM
class ZeroShotRater:
    """Ask an LLM for a 1-5 rating per prompt; answers are cached on disk by prompt."""

    def __init__(self, spec, cache_dir, threads=1, max_tokens=8):
        self.spec, self.threads, self.max_tokens = spec, threads, max_tokens
        self.cache_path = Path(cache_dir) / f"zeroshot_{spec.replace(':', '_')}.json"
        self.cache = json.loads(self.cache_path.read_text()) if self.cache_path.exists() else {}
        self.backend = None
        self.seconds, self.calls = 0.0, 0

    @staticmethod
    def messages(prompt):
        return [{"role": "user", "content": f"Task:\n{prompt}\n\n{RATING_INSTRUCTION}"}]

    def answer(self, prompt):
        key = hashlib.sha256(prompt.encode()).hexdigest()
        if key not in self.cache:
            if self.backend is None:
                from skcomplexity.labeling.backends import make_backend

                self.backend = make_backend(self.spec, n_ctx=1024, n_threads=self.threads)
            start = time.perf_counter()
            text = self.backend.generate(self.messages(prompt), temperature=0.0,
                                         max_tokens=self.max_tokens, seed=0).text
            self.seconds += time.perf_counter() - start
            self.calls += 1
            self.cache[key] = text
            if self.calls % 20 == 0:
                self.save()
        return self.cache[key]

    def save(self):
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        self.cache_path.write_text(json.dumps(self.cache))

    @staticmethod
    def parse(text):
        m = _DIGIT.search(text)
        return int(m.group()) if m else None


def rating_to_level(rating, lo, hi):
    """Map a 1-5 rating linearly onto levels lo..hi (1 -> lo, 5 -> hi)."""
    return int(round(lo + (rating - 1) * (hi - lo) / 4))


# ----------------------------------------------------------------------------- evaluation
def make_models(args):
    from skcomplexity import ComplexityClassifier, MajorityClassifier, TfidfClassifier

    models = {
        "majority level": MajorityClassifier(),
        "TF-IDF + logistic regression": TfidfClassifier(),
        "MiniLM embeddings + LightGBM (ComplexityClassifier)": ComplexityClassifier(
            random_state=args.seed),
    }
    ft_name = f"MiniLM fine-tuned end to end, {args.epochs} epochs (FineTunedClassifier)"
    if args.epochs > 0:
        try:
            from skcomplexity.finetune import FineTunedClassifier

            models[ft_name] = FineTunedClassifier(
                loss="cross_entropy", epochs=args.epochs, random_state=args.seed,
                n_threads=args.threads)
        except ImportError as exc:
            models[ft_name] = f"not available ({exc})"
    else:
        models[ft_name] = "not run (--epochs 0)"
    return models


def evaluate_set(texts, levels, models, args, raters, log):
    from sklearn.model_selection import StratifiedKFold

    X = np.array(texts, dtype=object)
    folds = args.folds
    # StratifiedKFold needs every level in every fold; tiny levels lower the fold count.
    min_count = np.bincount(levels - levels.min()).astype(float)
    min_count = int(min_count[min_count > 0].min())
    if min_count < folds:
        log(f"  smallest level has {min_count} tasks: using {max(2, min_count)} folds")
        folds = max(2, min_count)
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=args.seed).split(X, levels))
    out = {name: {"status": est} for name, est in models.items() if isinstance(est, str)}
    fitted = {name: est for name, est in models.items() if not isinstance(est, str)}
    for name, res in cross_validate_levels(fitted, X, levels, splits, log).items():
        out[name] = {**res, "mask": np.ones(len(levels), bool), "n": len(levels)}
    out = {name: out[name] for name in models}  # keep the table's row order
    lo, hi = int(levels.min()), int(levels.max())
    for name, rater in raters.items():
        rng = np.random.default_rng(args.seed)
        scored = np.zeros(len(levels), bool)
        scored[_stratified_subset(levels, args.llm_limit, rng)] = True
        ratings = np.zeros(len(levels), dtype=int)
        t0, calls0, secs0 = time.perf_counter(), rater.calls, rater.seconds
        for i in np.flatnonzero(scored):
            r = rater.parse(rater.answer(texts[i]))
            ratings[i] = 0 if r is None else r
        rater.save()
        log(f"  {name}: {int(scored.sum())} prompts rated in {time.perf_counter() - t0:.0f}s "
            f"({rater.calls - calls0} new calls)")
        pred = np.empty_like(levels)
        rows = []
        for tr, te in splits:
            te = te[scored[te]]
            if len(te) == 0:
                continue
            majority = np.bincount(levels[tr]).argmax()
            pred[te] = [rating_to_level(r, lo, hi) if r else majority for r in ratings[te]]
            rows.append({**level_metrics(levels[te], pred[te]), "fit": 0.0, "pred_ms": np.nan})
        new_calls = rater.calls - calls0
        ms = 1000 * (rater.seconds - secs0) / new_calls if new_calls else np.nan
        for r in rows:
            r["pred_ms"] = ms
        counts = np.bincount(ratings[scored], minlength=6)
        out[name] = {"folds": rows, "pred": pred, "mask": scored, "n": int(scored.sum()),
                     "unparseable": counts[0] / scored.sum(),
                     "ratings": {d: int(counts[d]) for d in range(1, 6)}}
    return out, folds


def format_results(results):
    header = ["model", "tasks scored", "accuracy", "macro-F1", "within-one",
              "fit time / fold (s)", "predict (ms / prompt)"]
    rows = []
    for name, res in results.items():
        if "status" in res:
            rows.append([name, "-", res["status"], "", "", "", ""])
            continue
        cells = [name, str(res["n"])]
        for key in ("accuracy", "macro_f1", "within_one"):
            v = np.array([r[key] for r in res["folds"]])
            cells.append(f"{v.mean():.3f} ± {v.std():.3f}")
        cells.append(f"{np.mean([r['fit'] for r in res['folds']]):.1f}")
        ms = np.nanmean([r["pred_ms"] for r in res["folds"]]) if res["folds"] else np.nan
        cells.append("cached" if np.isnan(ms) else f"{ms:.1f}")
        rows.append(cells)
    return md_table(header, rows)


def plot_confusions(all_results, all_levels, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    sets = list(all_results)
    names = [n for n in all_results[sets[0]]
             if any("status" not in all_results[s].get(n, {"status": ""}) for s in sets)]
    fig, axes = plt.subplots(len(sets), len(names), figsize=(2.9 * len(names), 3.4 * len(sets)),
                             squeeze=False)
    for r, s in enumerate(sets):
        y = all_levels[s]
        labels = np.unique(y)
        for c, name in enumerate(names):
            ax = axes[r, c]
            res = all_results[s].get(name)
            if res is None or "status" in res:
                ax.axis("off")
                ax.set_title(f"{name.split(' (')[0]}\n{s}: not run", fontsize=7)
                continue
            m = res["mask"]
            cm = confusion_matrix(y[m], res["pred"][m], labels=labels).astype(float)
            norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
            ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
            for i in range(len(labels)):
                for j in range(len(labels)):
                    ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=6,
                            color="white" if norm[i, j] > 0.5 else "black")
            ax.set_xticks(range(len(labels)), labels, fontsize=7)
            ax.set_yticks(range(len(labels)), labels, fontsize=7)
            acc = np.mean(y[m] == res["pred"][m])
            short = name.split(" (")[0]
            ax.set_title(f"{short}\n{s}: acc {acc:.2f}", fontsize=7)
            if r == len(sets) - 1:
                ax.set_xlabel("predicted level", fontsize=7)
            if c == 0:
                ax.set_ylabel("true level", fontsize=7)
    fig.suptitle("Out-of-fold confusion matrices (counts; colour = share of the true level)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-home", default=None)
    p.add_argument("--labels", default=None, help="a label CSV from `skcomplexity label`")
    p.add_argument("--text", choices=["prompts", "instructions"], default="prompts",
                   help="RouterDC text: question with its first assert (what the LLMs saw) "
                        "or the instruction alone")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=3, help="fine-tuning epochs; 0 skips it")
    p.add_argument("--finetune-on", nargs="*", default=["routerdc-paper5", "labels"],
                   help="label sets the fine-tuned model runs on ('all', set names; 'labels' "
                        "= the --labels file)")
    p.add_argument("--threads", type=int, default=1, help="torch / llama.cpp threads")
    p.add_argument("--llm", nargs="*", default=list(LLMS), choices=list(LLMS),
                   help="zero-shot LLMs to ask (none: --llm with no value)")
    p.add_argument("--llm-limit", type=int, default=150,
                   help="prompts per label set each zero-shot LLM answers (stratified subset)")
    p.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(),
                                                        "skcomplexity_bench_cache"))
    p.add_argument("--quick", action="store_true", help="few rows and folds (smoke test)")
    p.add_argument("--quick-rows", type=int, default=60)
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    if args.quick:
        args.folds = min(args.folds, 2)
        args.epochs = min(args.epochs, 1)
        args.llm_limit = min(args.llm_limit, 6)
        args.finetune_on = ["all"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    header_machine = machine()
    sets = label_sets(args)
    models = make_models(args)
    raters = {f"{name}, zero-shot 1-5 rating (not fine-tuned)":
              ZeroShotRater(LLMS[name], args.cache_dir, threads=args.threads)
              for name in args.llm}
    sections, all_results, all_levels = [], {}, {}
    for set_name, (texts, levels, desc) in sets.items():
        log(f"== {set_name}: {len(levels)} tasks")
        set_models = dict(models)
        if "all" not in args.finetune_on and set_name not in args.finetune_on:
            for name, est in models.items():
                if "FineTunedClassifier" in name and not isinstance(est, str):
                    set_models[name] = (
                        "not run on this label set (--finetune-on; 5-10 min per fold on the "
                        "loaded 2-core machine); for routerdc-8 see finetune.md "
                        "(bench_finetune.py, same levels, folds and seed)")
        results, folds = evaluate_set(texts, np.asarray(levels, dtype=int), set_models, args,
                                      raters, log)
        all_results[set_name], all_levels[set_name] = results, np.asarray(levels, dtype=int)
        dist = ", ".join(f"{lv}: {c}" for lv, c in zip(*np.unique(levels, return_counts=True)))
        notes = []
        for name, res in results.items():
            if "unparseable" in res:
                notes.append(f"- {name.split(',')[0]}: {100 * res['unparseable']:.0f}% of "
                             f"{res['n']} answers had no digit 1-5; ratings given "
                             + ", ".join(f"{d}: {c}" for d, c in res["ratings"].items()) + ".")
        sections.append(
            f"### {set_name}\n\n{desc}\n\nLevel counts: {dist}. Stratified {folds}-fold CV, "
            f"seed {args.seed}; mean ± std over folds.\n\n{format_results(results)}\n\n"
            + ("\n".join(notes) + "\n" if notes else ""))
    fig = out / "classification_confusion.png"
    plot_confusions(all_results, all_levels, fig)
    elapsed = time.perf_counter() - started
    command = "SKCOMPLEXITY_DATA=/work/shared/data python3 benchmarks/bench_classification.py " + \
        " ".join(argv if argv is not None else sys.argv[1:])
    text = (
        "# Complexity classification from the instruction alone\n\n"
        "The paper's claim (ComplexityNet, Bae et al. 2023): a fine-tuned small model reaches "
        "79% accuracy on 5 levels vs 34% for the same model not fine-tuned. This benchmark "
        "measures the analogue on real pass rates; see the module docstring of "
        "`benchmarks/bench_classification.py` for how each label set and baseline is built.\n\n"
        f"- Command: `{command.strip()}`\n- Machine: {header_machine}. The machine was shared "
        "with other jobs (tests, benchmarks), so fit times are noisy upper bounds.\n"
        f"- Versions: {versions('sklearn', 'lightgbm', 'torch', 'sentence_transformers', 'llama_cpp')}\n"
        f"- Runtime: {elapsed / 60:.1f} min\n"
        "- within-one = share of predictions at most one level off; zero-shot LLM rows: fit "
        "time 0 (nothing is trained), their 1-5 answer mapped linearly onto the level range, "
        "an answer without a digit 1-5 counted as the training fold's majority level.\n\n"
        + "\n".join(sections)
        + f"\nFigure: `{fig.name}` (out-of-fold confusion matrices, one row per label set).\n"
    )
    (out / "classification.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
