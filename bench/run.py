"""Run the benchmark suite: `python -m bench.run [--scale 10k|100k|1M] [--only NAME ...]`.

Each suite runs in a process of its own (so that peak memory is the suite's own) against the
scale's PostgreSQL database, filled once by the synthetic data generator. Every figure is a
median of several rounds, measured side by side with its limit. Writes
bench/results/<timestamp>.json (a list of figures) and prints a table.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from .database import SCALES
from .figures import Figure

SUITES = (
    "validation",
    "phi",
    "pages",
    "exports",
    "quality",
    "http",
    "imports",
    "aggregates",
    "dictionary",
    "beacon",
)
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, "
        f"Python {platform.python_version()}"
    )


def run_suite(name: str, scale: str) -> list[Figure]:
    """Run one suite in a child process and read back its figures."""
    with tempfile.NamedTemporaryFile(suffix=".json") as output:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.run",
                "--suite",
                name,
                "--scale",
                scale,
                "--output",
                output.name,
            ],
            check=True,
        )
        return [Figure(**item) for item in json.loads(Path(output.name).read_text())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--scale",
        choices=list(SCALES),
        default="10k",
        help="data set: about this many submissions (default 10k)",
    )
    parser.add_argument("--only", nargs="*", choices=SUITES, default=list(SUITES))
    parser.add_argument("--suite", choices=SUITES, help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.suite:
        from registry.people.scoping import unscoped

        module = importlib.import_module(f"bench.{args.suite}")
        # The suites fill and inspect the data as a command would; the requests they time
        # run in their person's scope, as in production.
        with unscoped("benchmark set-up and checks"):
            figures = module.measure(SCALES[args.scale])
        Path(args.output).write_text(json.dumps([f.as_dict() for f in figures]))
        return

    figures: list[Figure] = []
    for name in args.only:
        print(f"-- {name} ({args.scale})", flush=True)
        figures.extend(run_suite(name, args.scale))

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"{stamp}.json"
    out.write_text(json.dumps([f.as_dict() for f in figures], indent=2) + "\n", encoding="utf-8")
    print(f"machine: {machine()}")
    print(f"{'figure':<60} {'value':>12} {'limit':>12} {'ratio':>7}  {'target':<16} met")
    for f in figures:
        print(
            f"{f.figure:<60} {f.value:>12.2f} {f.limit:>12.2f} {f.ratio:>7.3f}  "
            f"{f.target:<16} {'yes' if f.met else 'NO'}  ({f.unit}, {f.scale})"
        )
    print(f"written to {out}")
    print()
    print(markdown_table(figures))


def markdown_table(figures: list[Figure]) -> str:
    """The figures as the table of BENCHMARKS.md."""
    lines = [
        "| figure | scale | value | limit | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        lines.append(
            f"| {f.figure} | {f.scale} | {f.value:,g} {f.unit} | {f.limit:,g} | "
            f"{f.ratio:.3f} | {f.target} | {'yes' if f.met else '**no**'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
