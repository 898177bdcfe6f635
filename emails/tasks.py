from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from creatorhub.tasks import SiteTask
from creatorhub.tenancy import platform_wide
from emails import services
from emails.models import EmailStatus, OutboundEmail

MAX_RETRIES = 8
STALE_AFTER = timedelta(minutes=2)


@shared_task(base=SiteTask, bind=True, max_retries=MAX_RETRIES)
def send_email(self, site, email_id: int) -> str:
    outcome = services.deliver(site, email_id=email_id, final_attempt=self.request.retries >= MAX_RETRIES)
    if outcome == "retry":
        retry = self.retry(countdown=min(30 * 2**self.request.retries, 3600), throw=False)
        if self.request.is_eager:
            return retry  # without a broker, Celery's apply() runs the retry at once
        raise retry
    return outcome


@shared_task
def requeue_stale_emails() -> int:
    """Re-queues emails left queued (broker down at commit, worker killed mid-send).

    Audited platform-wide read: the sweep looks at every site's outbox, and each email is then sent
    in its own site's scope.
    """
    with platform_wide("outbox sweep: queued emails of every site"):
        stale = list(
            OutboundEmail.objects.filter(
                status=EmailStatus.QUEUED, created_at__lt=timezone.now() - STALE_AFTER
            ).values_list("site_id", "pk")[:1000]
        )
    for site_id, email_id in stale:
        send_email.delay(site_id, email_id)
    return len(stale)
