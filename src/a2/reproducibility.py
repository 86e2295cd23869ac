"""Run-to-run comparison of two results files: which figures a rerun reproduced, and which moved.

``python -m a2.reproducibility NAME EARLIER LATER [--out results/reproducibility.json]`` compares two
results payloads of one notebook value by value, leaving out what is expected to change between runs
(wall times, step timings, throughput, creation time, commit), and records the count of identical
values and every differing one with both values. The README's "what to expect on your machine"
section reads the file, so its claims about reproducibility come from two real runs, not from hope.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from a2 import cli, io
from a2.errors import ResultsError
from a2.results import flatten, load_all_results

# What measures or stamps the run itself rather than the model, never compared: these leaf names, any
# key ending in "_s" (seconds, tokens per second), leaf or subtree ("optional_runtime_s.seeds_full"), and
# everything under these subtrees.
VOLATILE_NAMES = ("created", "git_commit", "duration", "seconds", "device")
VOLATILE_SUFFIX = "_s"
VOLATILE_SUBTREES = ("step_seconds", "timings")


def volatile(path: str) -> bool:
    """True for a value that times or stamps the run (see :data:`VOLATILE_NAMES` and its neighbours)."""
    parts = [part.split("[", 1)[0] for part in path.split(".")]
    return parts[-1] in VOLATILE_NAMES or any(part.endswith(VOLATILE_SUFFIX) for part in parts) or \
        any(f".{v}." in f".{path}." for v in VOLATILE_SUBTREES)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def compare_payloads(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> dict[str, Any]:
    """Counts of compared and identical values, and every differing (or one-sided) value with both sides."""
    a = {k: v for k, v in flatten(earlier, into_lists=True).items() if not volatile(k)}
    b = {k: v for k, v in flatten(later, into_lists=True).items() if not volatile(k)}
    common = sorted(a.keys() & b.keys())
    differing = {k: {"earlier": a[k], "later": b[k]} for k in common if not _same(a[k], b[k])}
    return {"compared": len(common), "identical": len(common) - len(differing), "differing": differing,
            "only_earlier": sorted(a.keys() - b.keys()), "only_later": sorted(b.keys() - a.keys())}


def record(name: str, earlier: Path, later: Path, out: Path, note: str = "") -> dict[str, Any]:
    """Compare two results files and store the comparison under ``name`` in ``out`` (other entries kept)."""
    payloads = []
    for path in (earlier, later):
        payload = io.read_json(path, allow_nan=True)
        if not isinstance(payload, dict):
            raise ResultsError(f"{path} does not hold a results object", "pass two results/*.json files")
        payloads.append(payload)
    entry = {"earlier": {"file": str(earlier), "created": payloads[0].get("created"),
                         "git_commit": payloads[0].get("git_commit")},
             "later": {"file": str(later), "created": payloads[1].get("created"),
                       "git_commit": payloads[1].get("git_commit")},
             "note": note, **compare_payloads(*payloads)}
    existing = io.read_json(out, allow_nan=True) if out.is_file() else {}
    io.write_json(out, {**existing, name: entry})
    return entry


START, END = "<!-- reproducibility:start -->", "<!-- reproducibility:end -->"
SHOWN_FIRST = ("arithmetic", "test", "val_f1", "val_accuracy")  # the differing values a reader wants first


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def readme_block(results: Mapping[str, Mapping[str, Any]]) -> str:
    """Markdown bullets for the README: each recorded comparison, and Part IV's fp32/bf16 retraining."""
    lines = []
    for name, entry in results.get("reproducibility", {}).items():
        differing = entry["differing"]
        first = sorted(differing, key=lambda k: (next((i for i, w in enumerate(SHOWN_FIRST) if w in k),
                                                       len(SHOWN_FIRST)), k))[:5]
        examples = ", ".join(f"`{k}` {_shown(differing[k]['earlier'])} → {_shown(differing[k]['later'])}"
                             for k in first)
        lines.append(f"- **{name}** ({entry['note']}): {entry['identical']:,} of {entry['compared']:,} recorded values "
                     f"identical" + (f"; {len(differing)} differ, first {examples}." if differing else
                                     "; none differs."))
    check = results.get("part_4", {}).get("arithmetic_check") or {}
    if check:
        arithmetics = [a for a in check if a != "comparison"]
        c = check["comparison"]
        lines.append("- **Part IV's final model trained once in each arithmetic** (same seed, data and machine; "
                     "`ARITHMETIC_CHECK = True`): test accuracy "
                     + ", ".join(f"{check[a]['test_accuracy']:.2%} in {a}" for a in arithmetics)
                     + f"; {c['a']} − {c['b']} = {100 * c['accuracy_diff']:+.2f} points (95% CI "
                     f"[{100 * c['ci95'][0]:+.2f}, {100 * c['ci95'][1]:+.2f}], McNemar p = {c['p_value']:.3g}); "
                     "training speed "
                     + ", ".join(f"{check[a]['tokens_per_s']:,.0f} tokens/s in {a}" for a in arithmetics)
                     + ".")
    return "\n".join(lines) or "- No two runs have been compared yet (`python -m a2.reproducibility`)."


def refresh_readme_block(root: Path) -> bool:
    """Regenerate ``root/README.md``'s reproducibility block from ``root/results``; True if it changed."""
    return io.replace_marked_block(root / "README.md", START, END, readme_block(load_all_results(root / "results")),
                                   "reproducibility block")


def _main(argv: Sequence[str] | None) -> int:
    parser = cli.ArgumentParser(prog="python -m a2.reproducibility", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the entry's name, e.g. part_2")
    parser.add_argument("earlier", type=Path)
    parser.add_argument("later", type=Path)
    parser.add_argument("--out", type=Path, default=Path("results/reproducibility.json"))
    parser.add_argument("--note", default="", help="how the two runs differ (machine, code, settings)")
    args = parser.parse_args(argv)
    entry = record(args.name, args.earlier, args.later, args.out, args.note)
    print(f"{args.name}: {entry['identical']} of {entry['compared']} values identical; "
          f"{len(entry['differing'])} differ")
    for key, pair in list(entry["differing"].items())[:20]:
        print(f"  {key}: {pair['earlier']!r} -> {pair['later']!r}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return cli.run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
