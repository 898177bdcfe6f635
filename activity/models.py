"""What contacts do (activity events), and what the platform makes of it: daily usage snapshots against
the plan, and overage cases for support staff."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact
from creatorhub.models import SiteOwned, User


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
# neither makes a customer active nor moves `last_activity_at` (SPEC §6: "something a contact did").
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


class UsageSnapshot(SiteOwned):
    """One site's usage on one day (in the site's time zone), computed by the nightly task."""

    day = models.DateField()
    active_customers = models.PositiveIntegerField()
    customers = models.PositiveIntegerField()
    contacts = models.PositiveIntegerField()
    active_customer_limit = models.PositiveIntegerField()
    contact_limit = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint("site", "day", name="usagesnapshot_unique_day")]

    @property
    def share_of_limit(self) -> float:
        return self.active_customers / self.active_customer_limit if self.active_customer_limit else 0.0


class OverageStatus(models.TextChoices):
    OPEN = "open", "Open"
    CONTACTED = "contacted", "Contacted"
    RESOLVED = "resolved", "Resolved"


class OverageOutcome(models.TextChoices):
    UPGRADED = "upgraded", "Upgraded"
    ALLOWANCE = "allowance", "Allowance granted"
    BACK_UNDER = "back_under", "Back under the limit"


class OverageCase(SiteOwned):
    """A site over its active customer limit, for support staff to review. Never blocks the site."""

    status = models.CharField(max_length=20, choices=OverageStatus.choices, default=OverageStatus.OPEN)
    outcome = models.CharField(max_length=20, choices=OverageOutcome.choices, blank=True)
    opened_on = models.DateField()
    last_over_on = models.DateField()
    active_customers = models.PositiveIntegerField(help_text="On the latest day computed.")
    peak_active_customers = models.PositiveIntegerField()
    active_customer_limit = models.PositiveIntegerField()
    assignee = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "site",
                name="overagecase_one_unresolved_per_site",
                condition=~Q(status=OverageStatus.RESOLVED),
            )
        ]

    @property
    def over_by(self) -> int:
        return max(self.active_customers - self.active_customer_limit, 0)


class OverageCaseEntry(SiteOwned):
    """The case's history: opened, updated by the nightly task, notes and status changes by support."""

    case = models.ForeignKey(OverageCase, on_delete=models.CASCADE, related_name="entries")
    at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    text = models.TextField()
    from_status = models.CharField(max_length=20, choices=OverageStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OverageStatus.choices, blank=True)

    class Meta:
        ordering = ["at", "id"]
