"""Branchline's version, in one place: the package's, which `pyproject.toml` sets.

The OpenAPI document, `/healthz` and the command line all read it from here.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def _installed_version() -> str:
    try:
        return version("branchline")
    except PackageNotFoundError:
        # Run from a checkout that was never installed: say so rather than invent a number.
        return "0+unknown"


VERSION = _installed_version()
