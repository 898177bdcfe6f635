from celery import shared_task

from creatorhub.tasks import JOB_LIMITS, SiteTask
from offers.models import GrantJob
from offers.services.grant_jobs import run_grant_job


@shared_task(base=SiteTask, acks_late=True, **JOB_LIMITS)
def run_grant_job_task(site, job_id: int) -> str:
    job = GrantJob.objects.filter(pk=job_id).first()
    if job is None:
        return "gone"
    return run_grant_job(site, job=job).status
