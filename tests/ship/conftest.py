"""The ship suite reuses the fake Discord of tests/e2e for its process-level checks."""

from tests.e2e.conftest import fake_discord

__all__ = ["fake_discord"]
