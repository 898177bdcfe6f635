"""Celery tasks of the audience app: each loads its row by id and calls a service."""

from celery import shared_task

from audience.services import bulk_actions, exports, grant_jobs
from contacts.models import BulkAction, Export
from creatorhub.tasks import JOB_LIMITS, SiteTask
from offers.models import GrantJob


@shared_task(base=SiteTask, acks_late=True, **JOB_LIMITS)
def run_bulk_action_task(site, action_id: int) -> str:
    action = BulkAction.objects.filter(pk=action_id).first()
    if action is None:
        return "gone"
    return bulk_actions.run_bulk_action(site, action=action).status


@shared_task(base=SiteTask, acks_late=True, **JOB_LIMITS)
def run_export_task(site, export_id: int) -> str:
    export = Export.objects.filter(pk=export_id).first()
    if export is None:
        return "gone"
    return exports.run_export(site, export=export).status


@shared_task(base=SiteTask, acks_late=True, **JOB_LIMITS)
def run_grant_job_task(site, job_id: int) -> str:
    job = GrantJob.objects.filter(pk=job_id).first()
    if job is None:
        return "gone"
    return grant_jobs.run_grant_job(site, job=job).status
