"""Offers, the products (courses) they unlock, and who holds them: accesses, purchases, grants."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from contacts.models import Contact, JobStatus  # one set of job statuses: bulk actions, exports, grants
from creatorhub.models import ApiKey, SiteOwned, User


class Product(SiteOwned):
    """A course: an ordered list of lessons."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_related_name = "products"
        ordering = ["title"]

    def __str__(self):
        return self.title


class Lesson(SiteOwned):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField()
    body = models.TextField(blank=True)

    class Meta:
        default_related_name = "lessons"
        ordering = ["product", "position"]
        constraints = [models.UniqueConstraint("site", "product", "position", name="lesson_unique_position")]

    def __str__(self):
        return self.title


class Offer(SiteOwned):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    products = models.ManyToManyField(Product, through="OfferProduct", related_name="offers", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_related_name = "offers"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "-created_at", "-id"], name="offer_site_newest")]

    def __str__(self):
        return self.title

    @property
    def is_active(self) -> bool:
        return self.archived_at is None


class OfferProduct(SiteOwned):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.CASCADE)

    class Meta:
        default_related_name = "offer_products"
        constraints = [models.UniqueConstraint("site", "offer", "product", name="offerproduct_unique")]


class AccessSource(models.TextChoices):
    PURCHASE = "purchase", "Purchase"
    GRANT = "grant", "Grant"


class Purchase(SiteOwned):
    """A paid checkout of an offer, recorded once per idempotency key."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True)
    email = models.EmailField(max_length=254)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_related_name = "purchases"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint("site", "idempotency_key", name="purchase_unique_key")]
        indexes = [models.Index(fields=["site", "-created_at", "-id"], name="purchase_site_newest")]


class Access(SiteOwned):
    """A contact's access to an offer. Revoking ends it and keeps it in history; at most one access per
    contact and offer is live (not revoked) at a time."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE)
    source = models.CharField(max_length=20, choices=AccessSource.choices)
    purchase = models.ForeignKey(Purchase, on_delete=models.SET_NULL, null=True, blank=True)
    grant_job = models.ForeignKey("GrantJob", on_delete=models.SET_NULL, null=True, blank=True)
    granted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    granted_by_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        default_related_name = "accesses"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "site",
                "contact",
                "offer",
                condition=Q(revoked_at__isnull=True),
                name="access_one_live_per_contact_offer",
            )
        ]
        indexes = [
            models.Index(fields=["site", "contact"], name="access_site_contact"),
            models.Index(fields=["site", "offer", "-created_at", "-id"], name="access_site_offer"),
            # The Overview's grants of the last 30 days and the 30 before.
            models.Index(
                fields=["site", "-created_at", "-id"],
                name="access_site_granted",
                condition=Q(source=AccessSource.GRANT),
            ),
        ]

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None


class GrantJob(SiteOwned):
    """A bulk grant run by a worker, with its progress and result."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE)
    target = models.JSONField(help_text='{"contact_ids": [...]}, {"emails": [...]} or {"segment": "all"}')
    send_grant_email = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    granted = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skips = models.JSONField(default=list, blank=True, help_text="The first skipped targets and why.")
    errors = models.JSONField(default=list, blank=True, help_text="The first failed targets and why.")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_related_name = "grant_jobs"
        ordering = ["-created_at", "-id"]
        indexes = [
            # The Overview's jobs running now.
            models.Index(
                fields=["site", "-created_at", "-id"],
                name="grantjob_site_unfinished",
                condition=Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]),
            )
        ]

    @property
    def processed(self) -> int:
        return self.granted + self.skipped + self.failed


class LessonCompletion(SiteOwned):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE)
    completed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_related_name = "lesson_completions"
        constraints = [models.UniqueConstraint("site", "contact", "lesson", name="lessoncompletion_unique")]
