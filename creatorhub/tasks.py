"""Celery tasks of the tenancy core, and the base class that runs every site task in its site's scope."""

import smtplib

from celery import Task, shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from creatorhub.models import Invitation, Site
from creatorhub.tenancy import site_scope


class SiteTask(Task):
    """Takes `site_id` first, loads the site and runs the body as `run(site, ...)` inside its scope.

    Tasks get ids, never model instances, so a retried task reads the rows as they are now.
    """

    def __call__(self, site_id, *args, **kwargs):
        site = Site.objects.get(pk=site_id)
        with site_scope(site):
            return self.run(site, *args, **kwargs)


@shared_task(base=SiteTask, autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=True, max_retries=8)
def send_invitation_email(site, invitation_id: int, token: str) -> None:
    invitation = Invitation.objects.filter(pk=invitation_id).select_related("invited_by").first()
    if invitation is None or not invitation.is_usable():
        return
    link = settings.SITE_URL.rstrip("/") + reverse("accept-invitation", args=[token])
    context = {"invitation": invitation, "site": site, "link": link}
    send_mail(
        subject=f"Join {site.name} on CreatorHub",
        message=render_to_string("emails/team_invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
