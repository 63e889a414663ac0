"""Hypothesis profiles for the session property tests.

`ci`: derandomized (the same examples on every run, so a red build is reproducible) and
fewer of them; `dev` (the default): random and more thorough. Choose with
HYPOTHESIS_PROFILE=ci. Registered here, not in a root conftest, because tests/sessions owns
these tests; pytest's --hypothesis-profile only sees them when pytest is pointed at this
folder, the environment variable works from anywhere.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
