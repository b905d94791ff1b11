"""The `tags` command line (entry point `orchestration.cli:app`): see main.py."""

from orchestration.cli.main import app

__all__ = ["app"]
