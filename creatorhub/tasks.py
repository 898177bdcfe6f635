"""Celery tasks of the tenancy core (team invitations, dashboard password resets), and the base class
that runs every site task in its site's scope."""

import logging
import smtplib

from celery import Task, shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from creatorhub.models import Invitation, Site, User
from creatorhub.tenancy import site_scope
from creatorhub.tokens import password_reset_url, reset_link_lifetime

logger = logging.getLogger(__name__)
NOT_STARTED = "It could not be started: the job queue did not answer. Start it again in a moment."
# The time limits of a job (an import, an export, a bulk action or grant): under the broker's visibility
# timeout, after which a running job's message would go to a second worker.
JOB_LIMITS = {"soft_time_limit": 3000, "time_limit": 3300}


class SiteTask(Task):
    """Takes `site_id` first, loads the site and runs the body as `run(site, ...)` inside its scope.

    Tasks get ids, never model instances, so a retried task reads the rows as they are now.
    """

    def __call__(self, site_id, *args, **kwargs):
        site = Site.objects.get(pk=site_id)
        with site_scope(site):
            return self.run(site, *args, **kwargs)


def start_after_commit(site: Site, task, job, *, if_not_started: dict) -> None:
    """Queues `task(site.pk, job.pk)` once the transaction commits.

    When the broker does not answer, the job gets the fields of `if_not_started` (failed, saying why,
    e.g. with NOT_STARTED) instead of waiting as queued for a message that was never sent, and the
    request that started it, committed already, still answers.
    """

    def start():
        try:
            task.delay(site.pk, job.pk)
        except Exception:
            logger.exception("%s of site %s not queued: the broker failed", task.name, site.pk)
            with site_scope(site):
                type(job).objects.filter(pk=job.pk, status="queued").update(**if_not_started)
            for name, value in if_not_started.items():
                setattr(job, name, value)

    transaction.on_commit(start, robust=True)  # the database lost too: logged, and the job stays queued


@shared_task(base=SiteTask, autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=True, max_retries=8)
def send_invitation_email(site, invitation_id: int) -> None:
    invitation = Invitation.objects.filter(pk=invitation_id).select_related("invited_by").first()
    if invitation is None or not invitation.is_usable():
        return
    link = settings.SITE_URL.rstrip("/") + reverse("accept-invitation", args=[invitation.token()])
    context = {"invitation": invitation, "site": site, "link": link}
    send_mail(
        subject=f"Join {site.name} on CreatorHub",
        message=render_to_string("emails/team_invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


@shared_task(autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=True, max_retries=8)
def send_password_reset_email(user_id: int) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    context = {"user": user, "link": password_reset_url(user), "lifetime": reset_link_lifetime()}
    send_mail(
        subject="Reset your CreatorHub password",
        message=render_to_string("emails/password_reset.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
