"""mypy checks all of registry/ strictly (`make lint`), but for the modules pyproject.toml lists as
not yet clean. That list may only shrink: a listed module that has become clean fails here, so
it is taken off the list, and from then on `make lint` keeps it clean.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _mypy_config() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        config: dict[str, Any] = tomllib.load(handle)["tool"]
    return config


def _not_yet_clean() -> list[str]:
    [listed] = [
        override["module"]
        for override in _mypy_config()["mypy"]["overrides"]
        if override.get("ignore_errors")
    ]
    modules: list[str] = listed
    return modules


def test_the_list_of_modules_not_yet_clean_is_sorted_and_names_modules_that_exist():
    modules = _not_yet_clean()
    assert modules == sorted(set(modules))
    missing = [name for name in modules if not (ROOT / (name.replace(".", "/") + ".py")).is_file()]
    assert not missing, f"not modules of registry/ (take them off the list): {missing}"


def _ini_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def _config_without_the_list(path: Path) -> None:
    """pyproject.toml's mypy configuration as a mypy.ini, with no module's errors ignored."""
    tool = _mypy_config()
    mypy = dict(tool["mypy"])
    overrides = mypy.pop("overrides")
    lines = ["[mypy]", *(f"{key} = {_ini_value(value)}" for key, value in mypy.items())]
    for override in overrides:
        if override.get("ignore_errors"):
            continue
        options = {key: value for key, value in override.items() if key != "module"}
        lines.append(f"[mypy-{_ini_value(override['module'])}]")
        lines += [f"{key} = {_ini_value(value)}" for key, value in options.items()]
    lines.append("[mypy.plugins.django-stubs]")
    lines += [f"{key} = {_ini_value(value)}" for key, value in tool["django-stubs"].items()]
    path.write_text("\n".join(lines) + "\n")


def test_every_module_listed_as_not_yet_clean_still_has_errors(tmp_path):
    config = tmp_path / "mypy.ini"
    _config_without_the_list(config)
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL"}
    }
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(ROOT / ".mypy_cache" / "not-yet-clean"),
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checked.returncode in (0, 1), checked.stdout[-3000:] + checked.stderr[-3000:]
    with_errors = {
        match[1].replace("/", ".")
        for match in re.finditer(r"^(registry/\S+)\.py:\d+: error:", checked.stdout, re.M)
    }
    clean = [name for name in _not_yet_clean() if name not in with_errors]
    assert not clean, f"clean now: take them off the not-yet-clean list in pyproject.toml: {clean}"
    others = sorted(with_errors - set(_not_yet_clean()))
    assert not others, f"errors in modules expected clean (run `make lint`): {others}"
