import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from registry.jobs.services import do_start_job
from tests.factories import registry_form_versions

__all__ = ["forms"]


@pytest.fixture
def forms(db):
    return registry_form_versions()


@pytest.fixture
def start(django_capture_on_commit_callbacks, eager_tasks):
    """Start a run and let its task run in process, as it does without a broker."""

    def starting(actor, kind, **options):
        with django_capture_on_commit_callbacks(execute=True):
            run = do_start_job(actor, kind, **options)
        run.refresh_from_db()
        return run

    return starting


class OnQueue:
    """A task sent to one queue: what `do_request_job` queues for a worker of the tests' own."""

    def __init__(self, task, queue: str) -> None:
        self.task, self.queue = task, queue

    def delay(self, *args):
        return self.task.apply_async(args, queue=self.queue)


class WorkerProcess:
    """`celery worker` in a process of its own (prefork pool, one child), as in production,
    consuming only its own queue, on the test database."""

    def __init__(self, log: Path, environment: dict[str, str]) -> None:
        self.queue = f"jobs-test-{uuid.uuid4().hex[:8]}"
        self.log = log
        database = connection.settings_dict
        password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "registry.settings.test",
            "DATABASE_URL": (
                f"postgres://{database['USER']}{password}@{database['HOST']}:"
                f"{database['PORT']}/{database['NAME']}"
            ),
            "PYTHONPATH": os.getcwd(),
            **environment,
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "registry",
            "worker",
            "-P",
            "prefork",
            "-c",
            "1",
            "-Q",
            self.queue,
            "-n",
            f"{self.queue}@%h",
            "-I",
            "tests.jobs.worker_tasks",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ]
        with log.open("wb") as out:
            # Its own session, so that it and its pool child are killed together.
            self.process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{self.log.read_text()}")
            if " ready." in self.log.read_text():
                return
            time.sleep(0.2)
        raise AssertionError(f"the worker did not start:\n{self.log.read_text()}")

    def on_queue(self, task) -> OnQueue:
        return OnQueue(task, self.queue)

    def kill(self) -> None:
        """SIGKILL to the worker and its pool child: no shutdown, no acknowledgement."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def worker_process(tmp_path):
    """Start a worker process: `worker_process(JOB_HEARTBEAT_SECONDS="0.2")` (environment)."""
    started: list[WorkerProcess] = []

    def start(**environment: str) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"worker-{len(started)}.log", environment)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
