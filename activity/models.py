"""What contacts do: activity events, recorded with the time they happened."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact
from creatorhub.models import SiteOwned


class ActivityKind(models.TextChoices):
    LOGIN = "login", "Logged in"
    LESSON_COMPLETED = "lesson_completed", "Completed a lesson"
    COURSE_COMPLETED = "course_completed", "Completed a course"
    FORM_SUBMITTED = "form_submitted", "Submitted a form"
    OPTED_IN = "opted_in", "Opted in"
    PURCHASED = "purchased", "Purchased"
    OFFER_GRANTED = "offer_granted", "Was granted an offer"
    OTHER = "other", "Other activity"


# Shown in the contact's timeline, but not something the contact did: the team granted the offer. It
# neither makes a customer active nor moves `last_activity_at` ("something a contact did").
NOT_ACTIVITY = frozenset({ActivityKind.OFFER_GRANTED})


class ActivityEvent(SiteOwned):
    """Something a contact did, at the time it happened (`occurred_at`), recorded at `recorded_at`."""

    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, related_name="activity_events"
    )  # None once the contact is deleted: the event stays for the site's figures, under `anonymous_id`
    anonymous_id = models.CharField(
        max_length=32, blank=True, help_text="Set when the contact was deleted: one random id per person."
    )
    kind = models.CharField(max_length=40, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)
    details = models.JSONField(default=dict, blank=True)
    external_id = models.CharField(
        max_length=200, blank=True, help_text="The sender's id: a repeat is ignored."
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "site", "external_id", name="activityevent_unique_external_id", condition=~Q(external_id="")
            )
        ]
        indexes = [
            models.Index(fields=["site", "contact", "-occurred_at", "-id"], name="activity_site_contact"),
            models.Index(fields=["site", "-occurred_at", "-id"], name="activity_site_newest"),
        ]
