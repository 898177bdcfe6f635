"""Rows made once for a module whose tests only read them: setting them up per test cost the suite
minutes (the demo, the schemathesis sites, the segment filters' town)."""

from contextlib import contextmanager

from django.db import transaction
from django.test import override_settings

FAST_HASHING = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@contextmanager
def rolled_back_after_the_module(django_db_blocker, **settings):
    """Opens the module's transaction, with `settings` (and fast password hashing) for the module; each
    test then runs in a savepoint of it (its `db` fixture), and it is rolled back at the end."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHING, **settings),
        transaction.atomic(),
    ):
        yield
        transaction.set_rollback(True)
