"""Celery tasks of the contacts app: each loads its row by id and calls a service."""

from celery import shared_task

from contacts import bulk
from contacts.models import BulkAction
from creatorhub.tasks import SiteTask


@shared_task(base=SiteTask, acks_late=True)
def run_bulk_action_task(site, action_id: int) -> str:
    action = BulkAction.objects.filter(pk=action_id).first()
    if action is None:
        return "gone"
    return bulk.run_bulk_action(site, action=action).status
