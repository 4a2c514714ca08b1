"""Compare a finished `mutmut run` with the list of mutants known to survive.

The modules that guard privacy, access and integrity are mutated (pyproject.toml,
`[tool.mutmut]`). A mutant that survives and is not in `mutation/survivors.txt` fails the
check: write the test that kills it. A listed mutant that no longer survives fails it too, so
that the list only shrinks: take it off. `--write` rewrites the list from the run, for a change
that moves code in a mutated module (the names of its mutants follow the code); the diff of
the list shows what the change gained or lost.

    python -m mutation.check [--write]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SURVIVORS = Path(__file__).with_name("survivors.txt")
# "no tests": no selected test calls the function, which is a survivor by another name.
_SURVIVING = {"survived", "no tests"}
_UNFINISHED = {"not checked"}


def run_results(mutmut: str) -> dict[str, str]:
    """Every mutant of the last run with its status, as `mutmut results --all true` lists it."""
    out = subprocess.run(
        [mutmut, "results", "--all", "true"], check=True, capture_output=True, text=True
    ).stdout
    results = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            results[name] = status
    return results


def listed() -> set[str]:
    lines = SURVIVORS.read_text(encoding="utf-8").splitlines() if SURVIVORS.exists() else []
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def write(survivors: set[str]) -> None:
    header = (
        "# Mutants that survive the tests (python -m mutation.check). This list may only\n"
        "# shrink: a new survivor needs a test; a mutant killed since comes off.\n"
    )
    SURVIVORS.write_text(
        header + "".join(f"{name}\n" for name in sorted(survivors)), encoding="utf-8"
    )


def main(argv: list[str]) -> int:
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    results = run_results(mutmut)
    if not results:
        print("No mutants: run `mutmut run` first.")
        return 2
    unfinished = sorted(name for name, status in results.items() if status in _UNFINISHED)
    if unfinished:
        print(f"The run did not finish: {len(unfinished)} mutants not checked.")
        return 2
    surviving = {name for name, status in results.items() if status in _SURVIVING}
    if "--write" in argv:
        write(surviving)
        print(f"{SURVIVORS}: {len(surviving)} survivors of {len(results)} mutants.")
        return 0
    known = listed()
    new, gone = sorted(surviving - known), sorted(known - surviving)
    for name in new:
        print(f"survives, and is not listed: {name}  (see: mutmut show {name})")
    for name in gone:
        print(f"listed, but killed now (or gone): {name}  (take it off {SURVIVORS.name})")
    killed = len(results) - len(surviving)
    print(
        f"{killed} of {len(results)} mutants killed; {len(surviving)} survive, {len(known)} listed."
    )
    return 1 if new or gone else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
