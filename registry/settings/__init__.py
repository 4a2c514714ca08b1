"""Settings modules: base (shared), local (the `make run` demo), test, production."""
