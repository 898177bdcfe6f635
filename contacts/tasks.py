"""Celery tasks of the contacts app: each loads its row by id and calls a service."""

from celery import shared_task

from contacts import export_files, services
from contacts.imports.services import run_import
from contacts.models import Import
from creatorhub.tasks import JOB_LIMITS, SiteTask


@shared_task(base=SiteTask, acks_late=True, **JOB_LIMITS)
def run_import_task(site, import_id: int) -> str:
    contact_import = Import.objects.filter(pk=import_id).first()
    if contact_import is None:
        return "gone"
    return run_import(site, contact_import=contact_import).status


@shared_task
def delete_expired_export_files() -> int:
    return export_files.delete_expired_files()


@shared_task(soft_time_limit=60, time_limit=90)
def fold_contact_counts() -> int:
    return services.fold_contact_counts()
