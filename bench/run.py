"""Run the benchmark suite: `python -m bench.run [--only NAME ...]`.

Writes bench/results/<timestamp>.json (a list of figures) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from . import pages, throughput, validation
from .figures import Figure

SUITES = {
    "validation": validation.measure,
    "pages": pages.measure,
    "throughput": throughput.measure,
}
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(SUITES), default=sorted(SUITES))
    args = parser.parse_args()

    figures: list[Figure] = []
    for name in args.only:
        figures.extend(SUITES[name]())

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"{stamp}.json"
    out.write_text(json.dumps([f.as_dict() for f in figures], indent=2) + "\n", encoding="utf-8")
    print(f"machine: {machine()}")
    print(f"{'figure':<48} {'value':>12} {'limit':>12} {'ratio':>7}  target        met")
    for f in figures:
        print(f"{f.figure:<48} {f.value:>12.2f} {f.limit:>12.2f} {f.ratio:>7.3f}  "
              f"{f.target:<13} {'yes' if f.met else 'NO'}  ({f.unit})")
    print(f"written to {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")


if __name__ == "__main__":
    main()
