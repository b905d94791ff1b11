"""The `tags` command line (entry point `orchestration.cli:app`)."""

from orchestration.cli.cli import app

__all__ = ["app"]
