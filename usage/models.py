"""What the platform makes of activity: each site's daily usage against its plan, and overage cases for
support staff. The tables were made by the activity app and keep their names (`db_table`): row-level
security and every index and constraint name stay as they are."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from creatorhub.models import SiteOwned, User


class UsageSnapshot(SiteOwned):
    """One site's usage on one day (in the site's time zone), computed by the nightly task."""

    day = models.DateField()
    active_customers = models.PositiveIntegerField()
    customers = models.PositiveIntegerField()
    contacts = models.PositiveIntegerField()
    active_customer_limit = models.PositiveIntegerField()
    contact_limit = models.PositiveIntegerField()
    # The day's own purchases and grants, so that the Overview sums a month of them from the snapshots
    # instead of counting them; null for snapshots taken before they were kept.
    purchases = models.PositiveIntegerField(null=True)
    grants = models.PositiveIntegerField(null=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "activity_usagesnapshot"
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
        db_table = "activity_overagecase"
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
        db_table = "activity_overagecaseentry"
        ordering = ["at", "id"]
