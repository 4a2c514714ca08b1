#!/usr/bin/env python
"""Django's command-line utility for the registry."""

import os
import sys


def main() -> None:
    # The shell defaults to the laptop demo; the web server and workers default to production.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
