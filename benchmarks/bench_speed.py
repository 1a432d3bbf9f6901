"""Benchmark: routing latency, throughput and how fitting and routing scale with data size.

Part 1, routing an unseen prompt. A :class:`~skcomplexity.CostAwareRouter` (default
``"mapping"`` strategy) over :class:`~skcomplexity.ComplexityClassifier` with
``SentenceEmbedder(cache=False)``, so the encoder really runs on every call, is fitted on
RouterDC's 500 MBPP questions (7-model ladder ordered by mean pass rate; placeholder costs
1..7, they do not affect speed). It then routes MBPP instructions it never saw:

* latency: ``router.predict([p])`` for one prompt at a time (median, 99th percentile),
  against sentence-transformers' raw ``model.encode([p])`` on the same prompts and the same
  loaded model -- the floor the router can approach, since the LightGBM head and the ladder
  lookup come on top of the encoder;
* throughput (prompts/s) at batch sizes 1, 8, 64 and 256, router vs raw encode.

Part 2, scaling with 1k, 10k and 100k prompts. The prompt sets are built from the real
instructions of MBPP (974), RouterBench's MBPP split (299) and RouterDC (500), de-duplicated;
prompt ``i`` is real instruction ``i mod P``, and from the second pass over the pool on it gets
a suffix `` (variant v)``, so every text is unique (no cache can help) and the length is
realistic. Labels are drawn with replacement from RouterDC's real 8-level column (timing does
not depend on which prompt has which label, but the class count and balance matter to
LightGBM). Measured per size: embedding time (``SentenceEmbedder(cache=False).transform``),
LightGBM head fit time (:func:`skcomplexity.classifier.default_head` on those embeddings),
routing time of all prompts = the embedding time (the same encoder call) + the measured
head-and-route time of a router fitted on the embeddings. When the projected embedding time of
the largest size exceeds ``--max-embed-minutes`` (15), it is extrapolated linearly from the
previous size, and the head is fitted on that size built from the embedded rows repeated with
tiny Gaussian noise; the table says so.

Usage::

    cd /work/main && SKCOMPLEXITY_DATA=/work/shared/data python3 benchmarks/bench_speed.py
    ... benchmarks/bench_speed.py --quick --out /tmp/x       # smoke run, tiny sizes

Writes ``speed.md`` and ``speed_scaling.png`` (log-log) into ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, data_home, machine, md_table, routerdc_ladder, versions  # noqa: E402


def real_instructions(home):
    """De-duplicated real instructions: MBPP, RouterBench MBPP, RouterDC (in that order)."""
    from skcomplexity.datasets import fetch_mbpp, load_routerbench, load_routerdc

    texts = list(fetch_mbpp(data_home=home, download_if_missing=False).data)
    try:
        texts += list(load_routerbench(data_home=home).prompts)
    except (OSError, ValueError) as exc:  # pragma: no cover - data missing
        print(f"RouterBench not used: {exc}", file=sys.stderr)
    texts += list(load_routerdc(data_home=home).instructions)
    seen, out = set(), []
    for t in texts:
        t = t.strip()
        if t and t not in seen:
            seen.add(t)
            out.append(t)
    return out


def build_prompts(pool, n):
    """``n`` unique prompts from a pool of real instructions (see the module docstring)."""
    P = len(pool)
    return [pool[i % P] if i < P else f"{pool[i % P]} (variant {i // P})" for i in range(n)]


def timed(fn, *a, **k):
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0


def fmt_s(s):
    return f"{s:.3f}" if s < 1 else f"{s:.1f}"


# --------------------------------------------------------------------------- part 1
def latency_and_throughput(args, log):
    from skcomplexity import ComplexityClassifier, CostAwareRouter, SentenceEmbedder

    home = data_home(args.data_home)
    texts, outcomes, models = routerdc_ladder(home, "prompts")
    if args.quick:
        texts, outcomes = texts[:40], outcomes[:40]
    router = CostAwareRouter(
        ComplexityClassifier(SentenceEmbedder(cache=False), random_state=0),
        models=models, costs=list(range(1, len(models) + 1)))
    _, fit_s = timed(router.fit, texts, outcomes)
    log(f"router fitted on {len(texts)} prompts in {fit_s:.1f}s")
    model = router.estimator_.embedder_.model_  # the very same SentenceTransformer

    seen = set(texts) | set(load_instr(home))
    from skcomplexity.datasets import fetch_mbpp

    unseen = [t for t in fetch_mbpp(data_home=home, download_if_missing=False).data
              if t not in seen]
    n_lat = args.latency_calls
    lat_prompts = [unseen[i % len(unseen)] for i in range(n_lat)]
    # Warm up both paths (first calls allocate), then interleave so that load spikes from
    # other jobs hit both alike.
    for p in lat_prompts[:5]:
        router.predict([p])
        model.encode([p], normalize_embeddings=True)
    r_lat, e_lat = [], []
    for p in lat_prompts:
        t0 = time.perf_counter()
        router.predict([p])
        r_lat.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.encode([p], normalize_embeddings=True, convert_to_numpy=True)
        e_lat.append(time.perf_counter() - t0)
    r_lat, e_lat = 1000 * np.array(r_lat), 1000 * np.array(e_lat)
    lat_rows = []
    for name, v in (("router.predict([p])", r_lat), ("raw model.encode([p])", e_lat)):
        lat_rows.append([name, str(len(v)), f"{np.median(v):.1f}", f"{np.percentile(v, 99):.1f}",
                         f"{v.mean():.1f}"])
    lat_rows.append(["ratio router / raw", "", f"{np.median(r_lat) / np.median(e_lat):.2f}",
                     f"{np.percentile(r_lat, 99) / np.percentile(e_lat, 99):.2f}",
                     f"{r_lat.mean() / e_lat.mean():.2f}"])
    log(f"latency median router {np.median(r_lat):.1f} ms, raw {np.median(e_lat):.1f} ms")

    tp_rows, tp = [], {}
    n_tp = args.throughput_prompts
    tp_prompts = [unseen[i % len(unseen)] + ("" if i < len(unseen) else f" (variant {i})")
                  for i in range(n_tp)]
    for bs in args.batch_sizes:
        batches = [tp_prompts[i:i + bs] for i in range(0, n_tp, bs)]
        # Interleaved batch by batch, so that load from other jobs hits both alike.
        r_s = e_s = 0.0
        for b in batches:
            t0 = time.perf_counter()
            router.predict(b)
            t1 = time.perf_counter()
            model.encode(b, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
            t2 = time.perf_counter()
            r_s, e_s = r_s + (t1 - t0), e_s + (t2 - t1)
        r, e = n_tp / r_s, n_tp / e_s
        tp[bs] = (r, e)
        tp_rows.append([str(bs), str(n_tp), f"{r:.1f}", f"{e:.1f}", f"{r / e:.2f}"])
        log(f"batch {bs}: router {r:.1f}/s, raw {e:.1f}/s")
    return {"fit_s": fit_s, "n_fit": len(texts), "lat_rows": lat_rows, "tp_rows": tp_rows,
            "tp": tp, "r_lat": r_lat, "e_lat": e_lat}


def load_instr(home):
    from skcomplexity.datasets import load_routerdc

    return load_routerdc(data_home=home).instructions


# --------------------------------------------------------------------------- part 2
def scaling(args, log):
    from skcomplexity import ComplexityClassifier, CostAwareRouter, SentenceEmbedder
    from skcomplexity.classifier import default_head
    from skcomplexity.labels import cheapest_capable_levels

    home = data_home(args.data_home)
    pool = real_instructions(home)
    _, outcomes, models = routerdc_ladder(home)
    real_levels = cheapest_capable_levels(outcomes, threshold=0.5)
    rng = np.random.default_rng(0)
    emb = SentenceEmbedder(cache=False).fit()
    rows, series = [], {"n": [], "embed": [], "head": [], "route": [], "extrap": [],
                       "extrap_head": []}
    prev = None
    for n in args.sizes:
        prompts = build_prompts(pool, n)
        y = rng.choice(real_levels, size=n, replace=True)
        projected = prev[1] / prev[0] * n if prev else 0.0
        extrapolated = prev is not None and projected > 60 * args.max_embed_minutes
        if extrapolated:
            base_n, base_Z = prev[0], prev[2]
            embed_s = projected
            reps = int(np.ceil(n / base_n))
            Z = np.tile(base_Z, (reps, 1))[:n]
            Z = Z + rng.normal(scale=1e-3, size=Z.shape).astype(np.float32)
            log(f"n={n}: embedding projected at {projected / 60:.1f} min > "
                f"{args.max_embed_minutes} min: extrapolated")
        else:
            log(f"n={n}: embedding ...")
            Z, embed_s = timed(emb.transform, prompts)
        head_projected = prev[3] / prev[0] * n if prev else 0.0
        head_extrapolated = prev is not None and head_projected > 60 * args.max_head_minutes
        if head_extrapolated:
            head_s = head_projected
            log(f"n={n}: head fit projected at {head_s / 60:.1f} min > "
                f"{args.max_head_minutes} min: extrapolated")
        else:
            log(f"n={n}: embedded in {embed_s:.1f}s; fitting head ...")
            head, head_s = timed(default_head(0).fit, Z, y)
        # Routing = encoder (embed_s, same call) + head + ladder lookup, measured on Z.
        router = CostAwareRouter(ComplexityClassifier(classifier=default_head(0)),
                                 models=models, costs=list(range(1, len(models) + 1)))
        router.fit(Z[: min(n, 5000)], y[: min(n, 5000)])
        _, route_head_s = timed(router.predict, Z)
        route_s = embed_s + route_head_s
        log(f"n={n}: head fit {head_s:.1f}s, head+route {route_head_s:.2f}s")
        if not extrapolated:
            note = "all measured"
        elif head_extrapolated:
            note = (f"embedding and head fit extrapolated linearly from n={prev[0]:,}; "
                    f"head + route measured on {prev[0]:,} real embeddings tiled to {n:,} rows")
        else:
            note = (f"embedding extrapolated linearly from n={prev[0]:,}; head fit measured on "
                    f"{prev[0]:,} real embeddings tiled to {n:,} rows + noise")
        rows.append([f"{n:,}", fmt_s(embed_s), f"{n / embed_s:.0f}", fmt_s(head_s),
                     fmt_s(embed_s + head_s), fmt_s(route_head_s), f"{n / route_s:.0f}", note])
        for k, v in (("n", n), ("embed", embed_s), ("head", head_s), ("route", route_s),
                     ("extrap", extrapolated)):
            series[k].append(v)
        series["extrap_head"].append(head_extrapolated)
        if not extrapolated:
            prev = (n, embed_s, Z, head_s)
    return rows, series, len(pool)


def plot(series, tp, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    n = np.array(series["n"], float)
    for key, label, c, ls in (("embed", "embedding (MiniLM)", "C0", "--"),
                              ("head", "LightGBM head fit", "C1", "-"),
                              ("route", "routing all n prompts (embed + head + lookup)", "C2",
                               "-")):
        v = np.array(series[key], float)
        ext = np.array(series["extrap_head" if key == "head" else "extrap"], bool)
        ax.plot(n, v, ls, marker="o", color=c, label=label, zorder=3 if key == "embed" else 2)
        if ext.any():
            ax.plot(n[ext], v[ext], "o", mfc="white", color=c)
    ax.plot(n, series["embed"][0] * n / n[0], ":", color="grey", label="linear in n")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("prompts")
    ax.set_ylabel("seconds")
    ax.set_title("Scaling (hollow marker = extrapolated)", fontsize=9)
    ax.legend(fontsize=7)
    bs = sorted(tp)
    ax2.plot(bs, [tp[b][0] for b in bs], "-o", label="router.predict")
    ax2.plot(bs, [tp[b][1] for b in bs], "-s", label="raw model.encode")
    ax2.set_xscale("log", base=2)
    ax2.set_yscale("log")
    ax2.set_xlabel("batch size")
    ax2.set_ylabel("prompts / s")
    ax2.set_title("Routing throughput vs raw encoder", fontsize=9)
    ax2.legend(fontsize=7)
    fig.suptitle("skcomplexity speed on a shared 2-core CPU (noisy)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-home", default=None)
    p.add_argument("--latency-calls", type=int, default=200)
    p.add_argument("--throughput-prompts", type=int, default=512)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 64, 256])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    p.add_argument("--max-embed-minutes", type=float, default=15.0)
    p.add_argument("--max-head-minutes", type=float, default=10.0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads; 0 = torch's choice (all cores). On a shared, loaded "
                        "2-core box one thread was 2-10x faster than two (no spin-waiting)")
    p.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    if args.quick:
        args.latency_calls, args.throughput_prompts = 5, 16
        args.batch_sizes = [1, 8]
        args.sizes = [50, 200, 1000]
        args.max_embed_minutes = min(args.max_embed_minutes, 0.1)
        args.max_head_minutes = min(args.max_head_minutes, 0.1)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    header_machine = machine()
    part1 = latency_and_throughput(args, log)
    rows, series, pool_size = scaling(args, log)
    fig = out / "speed_scaling.png"
    plot(series, part1["tp"], fig)
    elapsed = time.perf_counter() - started
    import torch

    command = "SKCOMPLEXITY_DATA=/work/shared/data python3 benchmarks/bench_speed.py " + \
        " ".join(argv if argv is not None else sys.argv[1:])
    text = (
        "# Routing speed and scaling\n\n"
        f"- Command: `{command.strip()}`\n- Machine: {header_machine}; torch threads "
        f"{torch.get_num_threads()}. Other engineers' tests and benchmarks ran on the same "
        "2 cores during the measurement: absolute numbers are noisy (and pessimistic); the "
        "router/raw ratios are measured interleaved and are the more reliable figures.\n"
        f"- Versions: {versions('sklearn', 'lightgbm', 'torch', 'sentence_transformers')}\n"
        f"- Runtime: {elapsed / 60:.1f} min\n"
        "- Encoder: all-MiniLM-L6-v2 (offline package), CPU; head: LightGBM "
        "(`default_head`, n_jobs=1); router: `CostAwareRouter` strategy `mapping` over "
        "`ComplexityClassifier(SentenceEmbedder(cache=False))` so that no embedding is reused.\n\n"
        f"## Latency of routing one unseen prompt\n\nRouter fitted on {part1['n_fit']} RouterDC "
        f"prompts in {part1['fit_s']:.1f} s (embedding + LightGBM). Prompts: MBPP instructions "
        "not in RouterDC, one per call; the router and the raw encoder calls are interleaved.\n\n"
        + md_table(["call", "calls", "median (ms)", "p99 (ms)", "mean (ms)"], part1["lat_rows"])
        + "\n\n## Throughput by batch size\n\n"
        f"{part1['tp_rows'][0][1]} unseen prompts routed in batches; raw = "
        "`model.encode(batch, batch_size=32)` on the same batches and the same loaded model.\n\n"
        + md_table(["batch size", "prompts", "router (prompts/s)", "raw encode (prompts/s)",
                    "router / raw"], part1["tp_rows"])
        + "\n\n## Scaling with the number of prompts\n\n"
        f"Prompts built from {pool_size:,} de-duplicated real instructions (MBPP, RouterBench "
        "MBPP, RouterDC); beyond the pool each reuse gets the suffix ' (variant v)'. Labels drawn "
        "with replacement from RouterDC's real 8-level column. Fit of the full classifier = "
        "embedding + head fit; routing all n prompts = embedding + head predict + ladder lookup "
        "(the head-and-route part measured on the embeddings).\n\n"
        + md_table(["prompts", "embedding (s)", "embedding (prompts/s)", "head fit (s)",
                    "classifier fit = embed + head (s)", "head + route (s)",
                    "routing (prompts/s)", "how"], rows)
        + f"\n\nFigure: `{fig.name}` (left: seconds vs prompts, log-log; right: throughput vs "
        "batch size).\n"
    )
    (out / "speed.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
