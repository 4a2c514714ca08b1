#!/usr/bin/env python
"""Django's command-line utility for the registry."""

import os
import sys


def main() -> None:
    # The shell defaults to the laptop demo; the web server and workers default to production.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.local")
    from django.core.management import execute_from_command_line

    from registry.people.scoping import unscoped

    # A command at a terminal is an operator's: it reads every site (docs/security.md).
    with unscoped("management command"):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
