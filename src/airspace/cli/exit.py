"""Exit codes the commands share."""

from __future__ import annotations

EXIT_CONFIG = 2
"""A setting that cannot be used (click's usage errors exit with 2 as well)."""
