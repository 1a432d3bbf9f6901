"""Benchmark: a fine-tuned MiniLM against frozen embeddings on RouterDC's MBPP levels.

The question ComplexityNet asks: does fine-tuning a small encoder predict how hard a coding task
is for LLMs better than the same encoder used as a fixed feature extractor? Data: RouterDC's
pass rates of 7 open 7B-class LLMs on 500 MBPP questions (10 samples each). Levels come from
:func:`skcomplexity.labels.cheapest_capable_levels` with ``threshold=0.5`` over a ladder of the
7 models.

RouterDC's models have no price order (all are 7-8B open models), so the ladder is ordered by
ascending mean pass rate, weakest first, as a proxy for "cheap to expensive": level 1 means the
weakest model already passes half of its samples, level 8 that none of the 7 does.

Compared, all with the same folds (stratified K-fold, fixed seed):

* majority class (``DummyClassifier``);
* MiniLM NOT fine-tuned: frozen sentence embeddings + logistic regression (the paper's
  "without fine-tuning" analogue);
* MiniLM embeddings + LightGBM (:class:`skcomplexity.classifier.ComplexityClassifier`);
* MiniLM fine-tuned end to end (:class:`skcomplexity.finetune.FineTunedClassifier`), softmax
  and ordinal (CORAL) heads.

Usage::

    SKCOMPLEXITY_DATA=/work/shared/data python3 benchmarks/bench_finetune.py --folds 5 --epochs 4

Writes ``benchmarks/results/finetune.md`` and ``benchmarks/results/finetune_confusion.png``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, cross_validate_levels, routerdc_ladder  # noqa: E402


def load_levels(data_home, text="prompts"):
    """Return (texts, levels, ladder) from RouterDC's 7-model MBPP table."""
    from skcomplexity.labels import cheapest_capable_levels

    texts, outcomes, models = routerdc_ladder(data_home, text=text)
    ladder = [(m, float(outcomes[:, i].mean())) for i, m in enumerate(models)]
    return texts, cheapest_capable_levels(outcomes, threshold=0.5), ladder


def make_models(args):
    """Name -> unfitted estimator, cheapest first."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skcomplexity.embedding import SentenceEmbedder
    from skcomplexity.finetune import FineTunedClassifier

    try:
        from skcomplexity.classifier import ComplexityClassifier

        lgbm = ComplexityClassifier(random_state=args.seed)
    except ImportError:  # pragma: no cover - before the classifier landed
        from lightgbm import LGBMClassifier

        lgbm = make_pipeline(
            SentenceEmbedder(), LGBMClassifier(class_weight="balanced", verbose=-1)
        )
    finetune = dict(
        epochs=args.epochs,
        max_length=args.max_length,
        batch_size=args.batch_size,
        random_state=args.seed,
        n_threads=args.threads,
        verbose=args.verbose,
        class_weight=None if args.class_weight == "none" else "balanced",
    )
    models = {
        "majority class (DummyClassifier)": DummyClassifier(strategy="most_frequent"),
        "MiniLM frozen + logistic regression (not fine-tuned)": make_pipeline(
            SentenceEmbedder(),
            LogisticRegression(max_iter=5000, class_weight="balanced"),
        ),
        "MiniLM embeddings + LightGBM (ComplexityClassifier)": lgbm,
        "MiniLM fine-tuned, cross-entropy": FineTunedClassifier(loss="cross_entropy", **finetune),
        "MiniLM fine-tuned, ordinal (CORAL)": FineTunedClassifier(loss="ordinal", **finetune),
    }
    if args.class_weight == "none":
        models = {
            k.replace("fine-tuned,", "fine-tuned (unweighted),"): v for k, v in models.items()
        }
    if args.only:
        models = {k: v for k, v in models.items() if any(s in k for s in args.only)}
    return models


def evaluate(models, texts, levels, folds, seed, log):
    X = np.array(texts, dtype=object)
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, levels))
    return cross_validate_levels(models, X, levels, splits, log)


def summarise(results):
    lines = [
        "| model | accuracy | macro-F1 | within-one | fit time per fold (s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, res in results.items():
        cols = []
        for key in ("accuracy", "macro_f1", "within_one"):
            vals = np.array([r[key] for r in res["folds"]])
            cols.append(f"{vals.mean():.3f} ± {vals.std():.3f}")
        fit = np.mean([r["fit"] for r in res["folds"]])
        lines.append(f"| {name} | " + " | ".join(cols) + f" | {fit:.1f} |")
    return "\n".join(lines)


def plot_confusions(results, levels, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in results if not n.startswith("majority")]
    labels = np.unique(levels)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        cm = confusion_matrix(levels, results[name]["pred"], labels=labels)
        ax.imshow(cm, cmap="Blues")
        for i in range(len(labels)):
            for j in range(len(labels)):
                ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted level")
        ax.set_ylabel("true level")
        ax.set_title(name.replace(" (", "\n("), fontsize=9)
    fig.suptitle("RouterDC MBPP, out-of-fold predictions")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def time_thousand(args, log):
    """Fit time of the default fine-tune on 1,000 real prompts (RouterDC + MBPP instructions)."""
    from skcomplexity.datasets import fetch_mbpp
    from skcomplexity.finetune import FineTunedClassifier

    texts, levels, _ = load_levels(args.data_home, args.text)
    mbpp = fetch_mbpp(data_home=args.data_home, download_if_missing=False)
    seen = set(texts)
    extra = [t for t in mbpp.data if t not in seen][: 1000 - len(texts)]
    X = texts + extra
    # Labels for the extra texts do not matter for timing; reuse the level distribution.
    y = np.concatenate([levels, np.resize(levels, len(extra))])
    clf = FineTunedClassifier(
        epochs=args.epochs, max_length=args.max_length, batch_size=args.batch_size,
        random_state=args.seed, n_threads=args.threads, verbose=args.verbose,
    )
    start = time.perf_counter()
    clf.fit(X, y)
    seconds = time.perf_counter() - start
    log(f"fit on {len(X)} prompts, {clf.n_iter_} epochs: {seconds:.1f} s")
    return len(X), clf.n_iter_, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-home", default=os.environ.get("SKCOMPLEXITY_DATA"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for fine-tuning (default: torch's own setting)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--class-weight", choices=["balanced", "none"], default="balanced",
                        help="class_weight of the fine-tuned models")
    parser.add_argument("--text", choices=["prompts", "instructions"], default="prompts",
                        help="prompts: instruction + first assert, as the LLMs saw them")
    parser.add_argument("--only", nargs="*",
                        help="run only models whose name contains one of these strings "
                        "(pass --only none with --time-1000 to time only)")
    parser.add_argument("--time-1000", action="store_true",
                        help="also time one fine-tune on 1,000 prompts")
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--out", default=str(RESULTS / "finetune.md"))
    args = parser.parse_args(argv)
    if not args.data_home:
        parser.error("set SKCOMPLEXITY_DATA or pass --data-home")

    def log(msg):
        print(msg, flush=True)

    texts, levels, ladder = load_levels(args.data_home, args.text)
    values, counts = np.unique(levels, return_counts=True)
    distribution = "| level | " + " | ".join(map(str, values)) + " |\n"
    distribution += "| --- |" + " --- |" * len(values) + "\n"
    distribution += "| tasks | " + " | ".join(map(str, counts)) + " |"
    log("ladder (weakest first): " + ", ".join(f"{m} ({p:.3f})" for m, p in ladder))
    log("level distribution:\n" + distribution)

    import torch

    results = evaluate(make_models(args), texts, levels, args.folds, args.seed, log)
    table = summarise(results)
    if results:
        log("\n" + table)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = (
        f"SKCOMPLEXITY_DATA=... python3 benchmarks/bench_finetune.py --folds {args.folds} "
        f"--epochs {args.epochs} --max-length {args.max_length} --batch-size {args.batch_size} "
        f"--text {args.text} --seed {args.seed} --class-weight {args.class_weight}"
        + (f" --threads {args.threads}" if args.threads else "")
    )
    env = (
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, torch threads "
        f"{args.threads or torch.get_num_threads()}, Python {platform.python_version()}"
    )
    if args.time_1000:
        n, epochs_run, seconds = time_thousand(args, log)
        timing = out.with_name(out.stem + "_timing.md")
        timing.write_text(
            f"# Fit time of FineTunedClassifier on {n} prompts\n\n"
            f"`{command} --time-1000` at {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
            f"({env}): cross-entropy head, {epochs_run} epochs, max_length {args.max_length}, "
            f"batch {args.batch_size}: **{seconds:.0f} s** "
            f"({seconds / max(epochs_run, 1):.0f} s per epoch, including validation).\n",
            encoding="utf-8",
        )
        log(f"wrote {timing}")
    if not results:
        return
    png = out.with_name(out.stem + "_confusion.png")
    plot_confusions(results, levels, png)
    epochs_run = {
        name: [r["epochs_run"] for r in res["folds"]]
        for name, res in results.items() if res["folds"][0]["epochs_run"] is not None
    }
    report = [
        "# Fine-tuned MiniLM vs frozen embeddings: RouterDC MBPP complexity levels",
        "",
        f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `{command}` ({env}).",
        "",
        f"Data: RouterDC's pass rates of 7 open LLMs on {len(texts)} MBPP questions; input text: "
        f"`{args.text}`. Levels: `cheapest_capable_levels(outcomes, threshold=0.5)` over a ladder "
        "ordered by ascending mean pass rate (weakest first; RouterDC's models have no price "
        "order, so weakness stands in for cheapness). Level 8 = no model passes half its "
        "samples.",
        "",
        "Ladder: " + ", ".join(f"{m} ({p:.3f})" for m, p in ladder) + ".",
        "",
        distribution,
        "",
        f"{args.folds}-fold stratified cross-validation (seed {args.seed}), mean ± std over "
        f"folds. Fine-tuning: {args.epochs} epochs max, early stopping on 10% of each training "
        f"fold, max_length {args.max_length}, batch {args.batch_size}, "
        f"class_weight={args.class_weight!r}. Logistic regression and LightGBM use balanced "
        "class weights, which trade accuracy on the big classes (levels 1 and 8) for recall "
        "on the small ones; the majority baseline does not.",
        "",
        table,
        "",
        f"Epochs run per fold (early stopping): {epochs_run}.",
        "",
        f"Out-of-fold confusion matrices: `{png.name}`.",
    ]
    report += [
        "",
        "Fit times of the embedding models exclude most of the encoding: SentenceEmbedder "
        "caches embeddings within the process, so after the first fold (and for the second "
        "embedding model) only the head is trained.",
    ]
    out.write_text("\n".join(report) + "\n", encoding="utf-8")
    log(f"wrote {out} and {png}")


if __name__ == "__main__":
    main()
