"""The ``skcomplexity`` command: label tasks, fit a router on the labels, route prompts.

::

    skcomplexity label --dataset mbpp --models llama:smollm2-135m,llama:gemma3-270m \\
        --samples 3 --task-ids 11-30 --out labels.csv
    skcomplexity fit --labels labels.csv --strategy mapping --out router.joblib
    skcomplexity route --router router.joblib "Write a function to add two numbers."
    skcomplexity evaluate ...   (forwarded to skcomplexity.evaluation.main)

Each subcommand follows the pipeline one step: ``label`` writes a label file (one row per
task: ``task_id, prompt, <pass count per model>, n_samples, level``), ``fit`` reads it and
writes a fitted :class:`~skcomplexity.CostAwareRouter`, ``route`` reads that.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main", "parse_task_ids", "default_costs"]


def parse_task_ids(text):
    """Parse ``"11-30"``, ``"11,12,20-25"`` into a sorted list of ints.

    Parameters
    ----------
    text : str

    Returns
    -------
    ids : list of int

    Examples
    --------
    >>> parse_task_ids("11-13,20")
    [11, 12, 13, 20]
    >>> parse_task_ids("5-3")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: empty range '5-3' in --task-ids
    """
    ids = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, sep, high = part.partition("-")
        try:
            low, high = int(low), int(high) if sep else int(low)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"cannot read {part!r} in --task-ids; expected e.g. 11-30 or 11,12,15-20"
            ) from None
        if high < low:
            raise argparse.ArgumentTypeError(f"empty range {part!r} in --task-ids")
        ids.update(range(low, high + 1))
    return sorted(ids)


def default_costs(n_models):
    """Costs assumed when ``fit`` is given none: one order of magnitude per rung.

    ``1, 10, 100, ...``: only the ratios matter to the router, and a factor of ten per rung
    is roughly what separates a small open model, a mid-size API model and a frontier one.

    Examples
    --------
    >>> default_costs(3)
    [1.0, 10.0, 100.0]
    """
    return [10.0**k for k in range(n_models)]


def _csv_list(text):
    return [item.strip() for item in text.split(",") if item.strip()]


# ------------------------------------------------------------------------------ label
def _load_dataset(args):
    from .labeling import load_tasks

    if args.dataset == "mbpp":
        from .datasets import fetch_mbpp

        tasks = load_tasks(fetch_mbpp(split=args.split))
    else:
        if args.split is not None:
            raise SystemExit("skcomplexity label: --split applies to --dataset mbpp only")
        tasks = load_tasks(args.dataset)
    if args.task_ids is not None:
        wanted = set(args.task_ids)
        tasks = [task for task in tasks if task["task_id"] in wanted]
    if args.limit is not None:
        tasks = tasks[: args.limit]
    if not tasks:
        raise SystemExit("skcomplexity label: no task selected (check --task-ids, --split, "
                         "--limit)")
    return tasks


def _label(args):
    from .labeling import label_tasks

    tasks = _load_dataset(args)
    cache = args.cache or f"{args.out}.cache.sqlite"
    models = _csv_list(args.models)
    if args.prices:
        prices = [float(p) for p in _csv_list(args.prices)]
        if len(prices) != len(models):
            raise SystemExit(f"skcomplexity label: {len(prices)} prices for {len(models)} "
                             "models")
        from .labeling import make_backend

        models = [make_backend(spec, price_per_1k=price) for spec, price in zip(models, prices)]
    print(f"labeling {len(tasks)} tasks with {len(models)} models x {args.samples} samples; "
          f"cache {cache}", file=sys.stderr, flush=True)
    result = label_tasks(
        tasks, models, n_samples=args.samples, temperature=args.temperature,
        max_tokens=args.max_tokens, seed=args.seed, cache=cache, n_jobs=args.jobs,
        timeout=args.timeout, levels=args.levels, threshold=args.threshold,
        drop_unsolved=not args.keep_unsolved, bind_name=args.bind_name,
        progress=not args.no_progress,
    )
    result.to_csv(args.out)
    if args.records:
        result.records.to_csv(args.records, index=False)
    print(result.summary())
    print(f"label file: {args.out} ({len(result.task_ids)} tasks)")
    return 0


# ------------------------------------------------------------------------------ fit
def _fit(args):
    import joblib

    from .labeling import LabelingResult
    from .router import CostAwareRouter

    labels = LabelingResult.from_csv(args.labels)
    if len(labels.task_ids) < 2:
        raise SystemExit(f"skcomplexity fit: {args.labels} holds {len(labels.task_ids)} "
                         "task(s); a router needs more")
    costs = ([float(c) for c in _csv_list(args.costs)] if args.costs
             else default_costs(len(labels.models)))
    if len(costs) != len(labels.models):
        raise SystemExit(f"skcomplexity fit: {len(costs)} costs for {len(labels.models)} models "
                         f"({', '.join(labels.models)})")
    estimator = None
    if args.estimator == "tfidf":
        estimator = _tfidf_classifier(args.random_state)
    router = CostAwareRouter(
        estimator, models=labels.models, costs=costs, strategy=args.strategy,
        threshold=args.threshold, cost_weight=args.cost_weight, budget=args.budget,
        success_threshold=args.success_threshold, random_state=args.random_state,
    )
    router.fit(labels.prompts, labels.outcomes)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(router, args.out)
    print(f"fitted a {args.strategy!r} router on {len(labels.task_ids)} tasks, models "
          f"{', '.join(labels.models)} at costs {', '.join(f'{c:g}' for c in costs)}")
    print(f"router: {args.out}")
    return 0


def _tfidf_classifier(random_state):
    # A light alternative to the sentence-embedding default: no model to load, seconds to fit.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000,
                                                               random_state=random_state))


# ------------------------------------------------------------------------------ route
def _read_prompts(path):
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        prompts = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if isinstance(row, str):
                prompts.append(row)
                continue
            for field in ("prompt", "text", "instruction"):
                if field in row:
                    prompts.append(row[field])
                    break
            else:
                raise SystemExit(f"skcomplexity route: line {number} of {path} has no "
                                 "'prompt', 'text' or 'instruction' field")
        return prompts
    return [line for line in text.splitlines() if line.strip()]


def _route(args):
    import joblib

    prompts = list(args.prompts)
    if args.input:
        prompts += _read_prompts(args.input)
    if not prompts:
        raise SystemExit("skcomplexity route: no prompt given (as arguments or --input)")
    router = joblib.load(args.router)
    models = router.predict(prompts)
    if args.json:
        for prompt, model in zip(prompts, models):
            print(json.dumps({"prompt": prompt, "model": str(model)}))
    else:
        for prompt, model in zip(prompts, models):
            print(f"{model}\t{prompt}")
    return 0


# ------------------------------------------------------------------------------ evaluate
def _evaluate(argv):
    try:
        from . import evaluation
    except ImportError as exc:
        # Only the module itself missing is this message; an import error inside it is a bug
        # to report as is.
        if getattr(exc, "name", None) != f"{__package__}.evaluation":
            raise
        print("skcomplexity evaluate: skcomplexity.evaluation is not available in this "
              "installation", file=sys.stderr)
        return 2
    return evaluation.main(argv)


# ------------------------------------------------------------------------------ parser
def build_parser():
    """The argument parser of the ``skcomplexity`` command.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="skcomplexity",
        description="Label coding tasks with a ladder of LLMs, fit a cost-aware router on the "
                    "labels, route prompts.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    label = sub.add_parser(
        "label", help="run a ladder of models on tasks and write a label file",
        description="Ask each model --samples times per task, test every answer in the "
                    "sandbox, and write one row per task with its pass counts and level. "
                    "Completions are cached: a re-run or a resume makes no call twice.")
    label.add_argument("--dataset", default="mbpp",
                       help="'mbpp' or a JSONL file of tasks with task_id, text, test_list "
                            "(default: mbpp)")
    label.add_argument("--models", required=True,
                       help="comma-separated backend specs, cheapest first, e.g. "
                            "llama:smollm2-135m,llama:gemma3-270m,openai:NAME@BASE_URL")
    label.add_argument("--samples", type=int, default=5, help="answers per task and model "
                                                              "(default: 5)")
    label.add_argument("--out", required=True, help="label file to write (CSV)")
    label.add_argument("--prices", help="comma-separated price per 1,000 tokens of each model, "
                                        "for the cost in the summary (default: 0)")
    label.add_argument("--split", choices=["prompt", "test", "validation", "train"],
                       help="MBPP split (default: all tasks)")
    label.add_argument("--task-ids", type=parse_task_ids, metavar="IDS",
                       help="tasks to label, e.g. 11-30 or 11,12,15-20")
    label.add_argument("--limit", type=int, help="label at most this many tasks")
    label.add_argument("--cache", help="SQLite completion cache (default: OUT.cache.sqlite)")
    label.add_argument("--jobs", type=int, default=1,
                       help="parallel worker processes (default: 1; local models use half "
                            "the cores each by default, so 2 suits 4 cores)")
    label.add_argument("--temperature", type=float, default=0.8, help="(default: 0.8)")
    label.add_argument("--max-tokens", type=int, default=512, help="(default: 512)")
    label.add_argument("--seed", type=int, default=0,
                       help="sample i uses seed SEED + i (default: 0)")
    label.add_argument("--timeout", type=float, default=10.0,
                       help="seconds per sandboxed test run (default: 10)")
    label.add_argument("--levels", choices=["auto", "paper", "cheapest"], default="auto",
                       help="level scheme: paper (3 models), cheapest capable, or auto = "
                            "paper for 3 models else cheapest (default)")
    label.add_argument("--threshold", type=float, default=0.5,
                       help="pass rate that makes a model capable, for cheapest levels "
                            "(default: 0.5)")
    label.add_argument("--keep-unsolved", action="store_true",
                       help="keep tasks no model solved (dropped by default, as in the paper)")
    label.add_argument("--bind-name", action="store_true",
                       help="accept a renamed function when unambiguous (default: the name "
                            "must match)")
    label.add_argument("--records", help="also write every (task, model, sample) record here")
    label.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    label.set_defaults(func=_label)

    fit = sub.add_parser(
        "fit", help="fit a cost-aware router on a label file",
        description="Fit a CostAwareRouter on the prompts and pass rates of a label file "
                    "(models = its model columns, in order) and save it with joblib.")
    fit.add_argument("--labels", required=True, help="label file written by 'label'")
    fit.add_argument("--strategy", choices=["mapping", "threshold", "utility", "budget"],
                     default="mapping", help="(default: mapping)")
    fit.add_argument("--costs", help="comma-separated cost per call of each model; default "
                                     "1,10,100,... (a factor of ten per rung)")
    fit.add_argument("--budget", type=float, help="mean cost per prompt for 'budget'")
    fit.add_argument("--threshold", type=float, default=0.3,
                     help="tolerated probability of failure for 'threshold' (default: 0.3)")
    fit.add_argument("--cost-weight", type=float, default=0.1,
                     help="cost weight for 'utility' (default: 0.1)")
    fit.add_argument("--success-threshold", type=float, default=0.5,
                     help="pass rate at which a model counts as capable (default: 0.5)")
    fit.add_argument("--estimator", choices=["default", "tfidf"], default="default",
                     help="complexity classifier: the default ComplexityClassifier (sentence "
                          "embeddings + LightGBM) or a TF-IDF logistic regression")
    fit.add_argument("--random-state", type=int, default=0, help="(default: 0)")
    fit.add_argument("--out", default="router.joblib", help="(default: router.joblib)")
    fit.set_defaults(func=_fit)

    route = sub.add_parser("route", help="print the model chosen for each prompt",
                           description="Route prompts with a router saved by 'fit'.")
    route.add_argument("--router", required=True, help="router file written by 'fit'")
    route.add_argument("prompts", nargs="*", help="prompts to route")
    route.add_argument("--input", help="prompts from a file: .txt (one per line) or .jsonl "
                                       "(field prompt, text or instruction)")
    route.add_argument("--json", action="store_true", help="print JSON lines")
    route.set_defaults(func=_route)

    sub.add_parser("evaluate", add_help=False,
                   help="evaluate routers (arguments go to skcomplexity.evaluation)")
    return parser


def main(argv=None):
    """Run the ``skcomplexity`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        The exit status.

    Examples
    --------
    >>> main(["route", "--router", "/nonexistent.joblib"])
    Traceback (most recent call last):
    ...
    SystemExit: skcomplexity route: no prompt given (as arguments or --input)
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after "evaluate" belongs to the evaluation module's own parser.
    if argv and argv[0] == "evaluate":
        return _evaluate(argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
