"""Celery tasks of the outbox. `send_email` runs on the transactional queue and `send_due_emails` on the
bulk queue (settings.CELERY_TASK_ROUTES), so a site's 100,000 grant emails never hold up another site's
purchase confirmation."""

from celery import shared_task
from django.utils import timezone

from creatorhub.tasks import SiteTask
from creatorhub.tenancy import platform_wide
from emails import services
from emails.models import EmailStatus, OutboundEmail

SWEPT_SITES = 1000


@shared_task(base=SiteTask, soft_time_limit=60, time_limit=90)
def send_email(site, email_id: int) -> str:
    return services.deliver(site, email_id=email_id)


@shared_task(base=SiteTask, bind=True, soft_time_limit=300, time_limit=330)
def send_due_emails(self, site) -> dict:
    """One batch of the site's due emails; queues the next batch behind other sites' when this one was
    full, so that one site's backlog takes its turn with the others'. (Run eagerly, with no broker, it
    sends them all.)"""
    outcomes = services.deliver_due(site)
    while self.request.is_eager and outcomes.total() and outcomes.total() % services.BATCH == 0:
        outcomes += services.deliver_due(site)
    if not self.request.is_eager and outcomes.total() >= services.BATCH:
        send_due_emails.delay(site.pk)
    return dict(outcomes)


@shared_task(soft_time_limit=60, time_limit=90)
def requeue_due_emails() -> int:
    """The minute sweep: a batch task for each site with emails due (a retry whose back-off is over, a
    claim that ran out, an email whose own task was lost). Audited platform-wide read: the sweep looks
    at every site's outbox; each batch then runs in its own site's scope."""
    with platform_wide("outbox sweep: due emails of every site"):
        sites = list(
            OutboundEmail.objects.filter(status=EmailStatus.QUEUED, next_attempt_at__lte=timezone.now())
            .values_list("site_id", flat=True)
            .distinct()
            .order_by()[:SWEPT_SITES]
        )
    for site_id in sites:
        send_due_emails.delay(site_id)
    return len(sites)
