"""A version published in one process is seen by another at its next request, without a
restart and without a shared cache, as between two gunicorn workers or two machines.

Both processes run on a SQLite file of their own (this module needs no database of the
suite's), each with its own per-process cache and no REDIS_URL: nothing but the database joins
them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import assessment_schema

ROOT = Path(__file__).resolve().parents[2]

# One line in, one JSON line out: `publish` a schema, or `read` what the process's copies say.
WORKER = """
import json, sys
import django
django.setup()
from registry.crfs.selectors import published_version
from registry.crfs.services import do_publish_form_version
from registry.exchange.layout import current_layout
from registry.formengine.schema import load_schema

for line in sys.stdin:
    command, _, argument = line.partition(" ")
    if command == "publish":
        version = do_publish_form_version(None, load_schema(json.loads(argument)))
        answer = {"published": version.number}
    else:
        version = published_version("assessment")
        layout = current_layout().by_name.get("assessment")
        answer = {
            "version": version and version.number,
            "title": version and version.form.title,
            "layout": layout and layout.latest.number,
        }
    print(json.dumps(answer), flush=True)
"""


class Worker:
    def __init__(self, environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=ROOT,
            env=environment,
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def ask(self, line: str) -> dict[str, object]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, self.process.stderr.read() if self.process.stderr else "no answer"
        result: dict[str, object] = json.loads(answer)
        return result

    def publish(self, schema: dict[str, object]) -> None:
        assert self.ask("publish " + json.dumps(schema)) == {"published": schema["version"]}

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[Worker, Worker]]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL"}
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "registry.settings.test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite3'}",
            "PYTHONPATH": str(ROOT),
        }
    )
    migrated = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    pair = Worker(environment), Worker(environment)
    try:
        yield pair
    finally:
        for worker in pair:
            worker.close()


def test_a_version_published_in_one_process_is_seen_by_another(workers):
    publisher, reader = workers
    publisher.publish(assessment_schema(1))
    # The reader fills its copies now, so that what follows is a change of them.
    assert reader.ask("read") == {"version": 1, "title": "Assessment", "layout": 1}

    publisher.publish(assessment_schema(2, title="Assessment, revised"))

    assert reader.ask("read") == {"version": 2, "title": "Assessment, revised", "layout": 2}
