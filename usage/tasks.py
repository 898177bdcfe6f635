from datetime import date

from celery import shared_task

from creatorhub.tasks import JOB_LIMITS
from usage.services import compute_all_usage


@shared_task(**JOB_LIMITS)
def nightly_usage(day: str | None = None, only_missing: bool = False) -> dict:
    """Every site's active customers for the day that has just ended (Celery beat, USAGE_NIGHTLY_AT)."""
    return compute_all_usage(day=date.fromisoformat(day) if day else None, only_missing=only_missing)
