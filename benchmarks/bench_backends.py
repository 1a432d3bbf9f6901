"""Overhead of ``LlamaCppBackend.generate`` over calling ``llama_cpp.Llama`` directly.

Both paths use the same loaded model, the same MBPP prompts (from
:func:`~skcomplexity.labeling.prompting.build_messages`) and the same sampling parameters and
seeds, so they generate the same tokens; the difference in tokens per second is what the
package adds. Four ways of generating are timed, interleaved call by call so that load from
other processes hits them alike:

* ``Llama`` direct: ``llama.create_chat_completion(...)``, llama-cpp-python's default, which
  reuses the evaluated prefix of the previous prompt.
* ``Llama`` direct + reset: the same after ``llama.reset()``, i.e. the same work as the
  backend does by default (every prompt evaluated from scratch, for reproducible seeds).
* backend: ``LlamaCppBackend.generate`` (default ``reuse_prefix=False``).
* backend, reuse_prefix: ``LlamaCppBackend.generate`` with ``reuse_prefix=True``.

Run::

    SKCOMPLEXITY_DATA=/work/shared/data python benchmarks/bench_backends.py

It prints a Markdown table and writes it to ``benchmarks/results/backend_overhead.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time
from pathlib import Path

from skcomplexity.labeling.backends import LlamaCppBackend
from skcomplexity.labeling.prompting import build_messages

HERE = Path(__file__).resolve().parent


def load_prompts(n, data_home=None):
    """Chat messages for the first ``n`` MBPP tasks."""
    data = Path(data_home or os.environ.get("SKCOMPLEXITY_DATA", "~/skcomplexity_data"))
    path = data.expanduser() / "mbpp" / "mbpp.jsonl"
    if not path.exists():
        raise SystemExit(f"{path} not found: set SKCOMPLEXITY_DATA or pass --data-home")
    with path.open() as f:
        tasks = [json.loads(line) for _, line in zip(range(n), f)]
    return [build_messages(task["text"], task["test_list"]) for task in tasks]


def run(model, *, n_prompts, max_tokens, repeats, n_threads, temperature, data_home=None):
    """Time the four ways of generating; return one summary dict per way."""
    prompts = load_prompts(n_prompts, data_home)
    backend = LlamaCppBackend(model, n_ctx=2048, n_threads=n_threads)
    llama = backend.load()  # the one model every variant uses

    def direct(messages, seed):
        response = llama.create_chat_completion(
            backend.format_messages(messages), temperature=temperature,
            max_tokens=max_tokens, seed=seed)
        return response["choices"][0]["message"]["content"], \
            response["usage"]["completion_tokens"]

    def direct_reset(messages, seed):
        llama.reset()
        return direct(messages, seed)

    def through_backend(reuse_prefix):
        def call(messages, seed):
            backend.reuse_prefix = reuse_prefix
            completion = backend.generate(messages, temperature=temperature,
                                          max_tokens=max_tokens, seed=seed)
            return completion.text, completion.completion_tokens
        return call

    variants = {
        "`Llama` direct": direct,
        "`Llama` direct + reset": direct_reset,
        "backend (default)": through_backend(False),
        "backend, reuse_prefix=True": through_backend(True),
    }
    direct_reset(prompts[0], 0)  # warm-up: first-call allocations are not anyone's overhead
    stats = {name: {"seconds": [], "tokens": 0, "texts": []} for name in variants}
    for repeat in range(repeats):
        for i, messages in enumerate(prompts):
            seed = 1000 * repeat + i
            # Rotate the order so that no variant always follows the same one (the KV cache
            # left by the previous call matters to the prefix-reusing variants).
            names = list(variants)
            shift = (repeat * len(prompts) + i) % len(names)
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                text, tokens = variants[name](messages, seed)
                stats[name]["seconds"].append(time.perf_counter() - start)
                stats[name]["tokens"] += tokens
                stats[name]["texts"].append(text)
    reference = stats["`Llama` direct + reset"]
    rows = []
    for name, stat in stats.items():
        total = sum(stat["seconds"])
        rows.append({
            "variant": name,
            "calls": len(stat["seconds"]),
            "tokens": stat["tokens"],
            "seconds": total,
            "tokens_per_s": stat["tokens"] / total,
            "median_call_ms": 1000 * statistics.median(stat["seconds"]),
            "ratio": (stat["tokens"] / total)
            / (reference["tokens"] / sum(reference["seconds"])),
            "same_text": sum(a == b for a, b in zip(stat["texts"], reference["texts"])),
        })
    return rows


def to_markdown(rows, args):
    header = (
        f"Model `{args.model}`, {args.n_prompts} MBPP prompts x {args.repeats} repeats, "
        f"max_tokens={args.max_tokens}, temperature={args.temperature}, "
        f"n_threads={args.n_threads}; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end; {platform.python_version()}; "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC.\n\n"
        "Ratio: tokens/s relative to `Llama` direct + reset (the same work as the backend's "
        "default). Same text: calls whose text equals that variant's.\n\n"
    )
    lines = ["| variant | calls | tokens | tokens/s | median call (ms) | ratio | same text |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(
            f"| {row['variant']} | {row['calls']} | {row['tokens']} | "
            f"{row['tokens_per_s']:.1f} | {row['median_call_ms']:.0f} | {row['ratio']:.3f} | "
            f"{row['same_text']}/{row['calls']} |")
    by_name = {row["variant"]: row for row in rows}
    same_work = by_name["backend (default)"]["ratio"]
    reuse = (by_name["backend, reuse_prefix=True"]["tokens_per_s"]
             / by_name["`Llama` direct"]["tokens_per_s"])
    reading = (
        f"\nOverhead of the package: backend / `Llama` doing the same work = {same_work:.3f} "
        f"(default), {reuse:.3f} (both reusing the prompt prefix). The rest of the gap between "
        "the rows is the cost of evaluating every prompt from scratch, which the backend pays "
        "by default so that a seed fixes the text (the prefix-reusing rows give another text "
        "in some calls: see 'same text').\n"
    )
    return header + "\n".join(lines) + "\n" + reading


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m",
                        help="short name (smollm2-135m, gemma3-270m) or GGUF path")
    parser.add_argument("--n-prompts", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--n-threads", type=int, default=1)
    parser.add_argument("--data-home", default=None, help="default: $SKCOMPLEXITY_DATA")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "backend_overhead.md")
    args = parser.parse_args(argv)
    rows = run(args.model, n_prompts=args.n_prompts, max_tokens=args.max_tokens,
               repeats=args.repeats, n_threads=args.n_threads, temperature=args.temperature,
               data_home=args.data_home)
    table = to_markdown(rows, args)
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("# LlamaCppBackend overhead\n\n" + table)
    return rows


if __name__ == "__main__":
    main()
