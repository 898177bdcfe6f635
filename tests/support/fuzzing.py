"""Hypothesis settings shared by the fuzz tests."""

import os

from hypothesis import HealthCheck, settings


def budget(default: int, *, large_data: bool = False) -> settings:
    """Settings for a test that uses the database: `default` examples (FUZZ_MAX_EXAMPLES overrides), no
    deadline (the first query of a run can be slow), repeatable. `large_data`: examples may be big
    (megabyte files)."""
    checks = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
    return settings(
        max_examples=int(os.environ.get("FUZZ_MAX_EXAMPLES", default)),
        deadline=None,
        derandomize=True,
        database=None,  # derandomized: nothing to replay, and no .hypothesis folder in the tree
        suppress_health_check=[*checks, HealthCheck.data_too_large] if large_data else checks,
    )
