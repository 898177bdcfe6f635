"""Contacts and their consent: statuses, consent events, tags, forms and their submissions, and the
raw delivery events that email service providers report."""

from dataclasses import dataclass

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from creatorhub.models import ApiKey, Site, SiteOwned, User

models.CharField.register_lookup(Lower)  # `email__lower=` uses the (site, lower(email)) index


class SubscriptionStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", "Subscribed"
    PENDING = "pending", "Pending confirmation"
    NEVER_SUBSCRIBED = "never_subscribed", "Never subscribed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class UnsubscribeReason(models.TextChoices):
    MANUAL = "manual", "By the site's team"
    OPTED_OUT = "opted_out", "Opted out"
    BOUNCED = "bounced", "Hard bounce"
    COMPLAINED = "complained", "Marked as spam"


class ConsentSource(models.TextChoices):
    """What caused a change of subscription status."""

    FORM = "form", "Form"
    IMPORT = "import", "Import"
    LINK = "link", "Email link"
    WEBHOOK = "webhook", "Email provider"
    TEAM = "team", "Team member"
    API = "api", "API"
    CHECKOUT = "checkout", "Checkout"


class ContactOrigin(models.TextChoices):
    """How a contact came to be."""

    MANUAL = "manual", "Added by hand"
    FORM = "form", "Form"
    IMPORT = "import", "Import"
    PURCHASE = "purchase", "Purchase"
    GRANT = "grant", "Grant"
    API = "api", "API"


class Tag(SiteOwned):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_related_name = "tags"
        ordering = ["name"]
        constraints = [models.UniqueConstraint("site", Lower("name"), name="tag_unique_site_name_ci")]

    def __str__(self):
        return self.name


class Contact(SiteOwned):
    """Any person of a site. One per email per site, compared case-insensitively, stored as given."""

    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    fields = models.JSONField(default=dict, blank=True, help_text="Custom fields: name → text.")
    tags = models.ManyToManyField(Tag, through="ContactTag", related_name="contacts")
    subscription_status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.NEVER_SUBSCRIBED
    )
    unsubscribe_reason = models.CharField(  # noqa: DJ001 - null means "not unsubscribed"
        max_length=20, choices=UnsubscribeReason.choices, null=True, blank=True
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    is_customer = models.BooleanField(
        default=False, help_text="Holds at least one offer access that is not revoked (kept by offers)."
    )
    last_activity_at = models.DateTimeField(null=True, blank=True)
    origin = models.CharField(max_length=20, choices=ContactOrigin.choices, default=ContactOrigin.MANUAL)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # The member area's login (set by the member through a one-time link; never emailed).
    member_password = models.CharField(max_length=128, blank=True)
    member_last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_related_name = "contacts"
        constraints = [
            models.UniqueConstraint("site", Lower("email"), name="contact_unique_site_email_ci"),
            models.CheckConstraint(
                condition=Q(
                    subscription_status=SubscriptionStatus.UNSUBSCRIBED, unsubscribe_reason__isnull=False
                )
                | (
                    ~Q(subscription_status=SubscriptionStatus.UNSUBSCRIBED)
                    & Q(unsubscribe_reason__isnull=True)
                ),
                name="contact_reason_iff_unsubscribed",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "-created_at", "-id"], name="contact_site_newest"),
            models.Index(
                fields=["site", "-created_at", "-id"],
                name="contact_site_subscribed_newest",
                condition=Q(subscription_status=SubscriptionStatus.SUBSCRIBED),
            ),
            models.Index(
                fields=["site", "-created_at", "-id"],
                name="contact_site_customer_newest",
                condition=Q(is_customer=True),
            ),
            models.Index(
                fields=["site", "subscription_status", "unsubscribe_reason"], name="contact_site_status"
            ),
            models.Index(fields=["site", "last_activity_at"], name="contact_site_last_activity"),
        ]

    def __str__(self):
        return self.email

    @property
    def is_subscriber(self) -> bool:
        return self.subscription_status == SubscriptionStatus.SUBSCRIBED

    @property
    def is_suppressed(self) -> bool:
        """A hard-bounced or complaining address: no email of any kind goes to it."""
        return self.unsubscribe_reason in (UnsubscribeReason.BOUNCED, UnsubscribeReason.COMPLAINED)

    @property
    def display_name(self) -> str:
        return self.name or self.email


class ContactCount(SiteOwned):
    """A change in how many of a site's contacts have one status, reason and customer flag: the tabs'
    counts are sums of these rows, so they are exact at every view without counting the contacts.

    The rows are written by database triggers on the contacts table (migration 0008), in the transaction
    of each change, whatever made it: the ORM, an import's set-based merge, a bulk update. Writers only
    ever insert (no row is shared, so no writer waits for another); `fold_contact_counts` sums a site's
    rows into one per group now and then."""

    # No foreign key constraint: deleting a site deletes its contacts after this table's rows, and their
    # triggers write rows for the deleted site; the next fold removes them.
    site = models.ForeignKey(Site, on_delete=models.DO_NOTHING, db_constraint=False)
    subscription_status = models.CharField(max_length=20, choices=SubscriptionStatus.choices)
    unsubscribe_reason = models.CharField(  # noqa: DJ001 - as Contact's, so that one filter fits both
        max_length=20, choices=UnsubscribeReason.choices, null=True
    )
    is_customer = models.BooleanField()
    contacts = models.BigIntegerField(help_text="How many contacts came into (+) or left (-) the group.")

    class Meta:
        default_related_name = "contact_counts"


class ContactTag(SiteOwned):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        default_related_name = "contact_tags"
        constraints = [models.UniqueConstraint("site", "contact", "tag", name="contacttag_unique")]
        indexes = [models.Index(fields=["site", "tag", "contact"], name="contacttag_site_tag")]


class Form(SiteOwned):
    """A public sign-up form at /f/<site>/<slug>/."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60)
    double_opt_in = models.BooleanField(
        default=True, help_text="Send a confirmation email; the contact is subscribed once they confirm."
    )
    ask_name = models.BooleanField(default=True)
    tag_names = models.JSONField(default=list, blank=True, help_text="Tags added to everyone who submits.")
    redirect_url = models.URLField(blank=True, help_text="Where to send people after they submit.")
    success_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_related_name = "forms"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint("site", "slug", name="form_unique_site_slug")]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.archived_at is None


class FormSubmission(SiteOwned):
    form = models.ForeignKey(Form, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    submitted_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        default_related_name = "form_submissions"
        indexes = [
            models.Index(fields=["site", "form", "contact"], name="formsubmission_site_form"),
            models.Index(fields=["site", "contact", "-submitted_at"], name="formsubmission_site_contact"),
        ]


class ConsentEvent(SiteOwned):
    """One change of a contact's subscription status: when, from what to what, why, by whom or what."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    occurred_at = models.DateTimeField(default=timezone.now)
    original_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the previous platform says it happened (an import's own dates), if it said so.",
    )
    from_status = models.CharField(max_length=20, choices=SubscriptionStatus.choices)
    from_reason = models.CharField(max_length=20, choices=UnsubscribeReason.choices, null=True, blank=True)  # noqa: DJ001
    to_status = models.CharField(max_length=20, choices=SubscriptionStatus.choices)
    to_reason = models.CharField(max_length=20, choices=UnsubscribeReason.choices, null=True, blank=True)  # noqa: DJ001
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    note = models.CharField(max_length=300, blank=True, help_text="The consent statement or the cause.")
    actor_user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    form = models.ForeignKey(Form, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        default_related_name = "consent_events"
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["site", "contact", "-occurred_at", "-id"], name="consent_site_contact")
        ]

    def __str__(self):
        return f"{self.from_status} → {self.to_status} ({self.source})"


class DeliveryEvent(SiteOwned):
    """A bounce, complaint or other delivery event reported by an email service provider, kept raw."""

    provider = models.CharField(max_length=40)
    event_type = models.CharField(max_length=40, help_text="Anymail's normalised type: bounced, complained…")
    provider_event_id = models.CharField(max_length=200, blank=True)
    recipient = models.EmailField(max_length=254)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True)
    message_id = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    applied = models.BooleanField(default=False, help_text="Whether it changed the contact's status.")
    raw = models.JSONField(default=dict)

    class Meta:
        default_related_name = "delivery_events"
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "site",
                "provider",
                "provider_event_id",
                name="deliveryevent_unique",
                condition=~Q(provider_event_id=""),
            )
        ]
        indexes = [
            models.Index(fields=["site", "contact", "-received_at"], name="deliveryevent_site_contact")
        ]


@dataclass(frozen=True)
class DefaultSegment:
    """A segment every site has, which is not a row: All, Customers and Subscribed."""

    key: str
    name: str
    filters: dict


DEFAULT_SEGMENTS = {
    segment.key: segment
    for segment in (
        DefaultSegment("all", "All", {"all": []}),
        DefaultSegment("customers", "Customers", {"all": [{"field": "customer", "op": "is", "value": True}]}),
        DefaultSegment(
            "subscribed",
            "Subscribed",
            {"all": [{"field": "status", "op": "is", "value": SubscriptionStatus.SUBSCRIBED}]},
        ),
    )
}


class Segment(SiteOwned):
    """A saved custom segment: filters kept as data (JSON), compiled to one query by
    audience.segments. The default segments (All, Customers, Subscribed) are not rows: every site has
    them."""

    name = models.CharField(max_length=100)
    filters = models.JSONField(
        help_text='{"all": [filter or {"any": [filter, …]}, …]}; see audience.segments.'
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        default_related_name = "segments"
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint("site", Lower("name"), name="segment_unique_site_name_ci")]

    def __str__(self):
        return self.name


class BulkActionKind(models.TextChoices):
    ADD_TAG = "add_tag", "Add a tag"
    REMOVE_TAG = "remove_tag", "Remove a tag"
    SUBSCRIBE = "subscribe", "Subscribe to marketing email"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe from marketing email"
    REVOKE_OFFER = "revoke_offer", "Revoke an offer"
    DELETE = "delete", "Delete"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BulkAction(SiteOwned):
    """One action of the Contacts tab on a selection — chosen contacts, or all that a segment matches —
    run as a job with progress and a result: how many were changed, how many skipped and why.
    (Grants to a selection are offers' grant jobs.)"""

    kind = models.CharField(max_length=20, choices=BulkActionKind.choices)
    params = models.JSONField(default=dict, blank=True, help_text="The tag, the offer or the consent note.")
    selection = models.JSONField(help_text='{"contact_ids": [...]} or {"filters": {...}, "search": ""}.')
    description = models.CharField(max_length=200, help_text="What was selected, in words, at the time.")
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    skipped_reasons = models.JSONField(default=dict, blank=True, help_text="Reason → how many contacts.")
    last_contact_id = models.BigIntegerField(
        default=0, help_text="Contacts are worked in id order: resume here."
    )
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_related_name = "bulk_actions"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "-created_at", "-id"], name="bulkaction_site_newest")]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.description} ({self.status})"


class ExportFileDeleted(models.TextChoices):
    EXPIRED = "expired", "Expired"
    CONTACT_DELETED = "contact_deleted", "Deleted with a contact it held"


class Export(SiteOwned):
    """A CSV export of the contacts a segment matches, written by a Celery job to a file for download. The
    file holds personal data: it is deleted when it expires and when a contact it may hold is deleted."""

    segment_name = models.CharField(max_length=100, help_text="What was exported, in words, at the time.")
    filters = models.JSONField(help_text="The segment's filters as they were when the export was asked for.")
    search = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="When the file is deleted.")
    file_deleted_at = models.DateTimeField(null=True, blank=True)
    file_deleted_because = models.CharField(max_length=20, blank=True, choices=ExportFileDeleted.choices)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_related_name = "exports"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "-created_at", "-id"], name="export_site_newest")]

    def __str__(self):
        return f"Export of {self.segment_name} ({self.status})"


class ImportStatus(models.TextChoices):
    DRAFT = "draft", "Waiting for its columns to be checked"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class EveryoneInFile(models.TextChoices):
    """What an import's file says of everyone in it, beyond its columns."""

    NOTHING = "", "Nothing more: each row's columns say"
    NEVER_SUBSCRIBED = "never_subscribed", "Never subscribed"
    OPTED_OUT = "opted_out", "Unsubscribed"
    MANUAL = "manual", "Was unsubscribed by the team"
    BOUNCED = "bounced", "Bounced (was cleaned)"
    COMPLAINED = "complained", "Marked emails as spam"


class Import(SiteOwned):
    """A CSV of contacts, uploaded or pasted: its columns are matched to contact fields (a draft until
    someone checks them), then one Celery job adds and updates the contacts in one transaction
    (contacts.imports). Rows that cannot be imported are kept as ImportRowError, with their number."""

    file = models.FileField(upload_to="imports/", blank=True, help_text="Deleted once the import is done.")
    filename = models.CharField(max_length=255, help_text="The name of the uploaded file, or “Pasted text”.")
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes.")
    encoding = models.CharField(max_length=20, help_text="The text encoding detected: utf-8, utf-16, cp1252…")
    delimiter = models.CharField(max_length=1, help_text="The delimiter detected: comma, semicolon or tab.")
    has_header = models.BooleanField(default=True)
    headers = models.JSONField(default=list, help_text="The names of the file's columns.")
    mapping = models.JSONField(
        default=list,
        help_text="What each column becomes, in order: email, name, first_name, last_name, tags, status, "
        "unsubscribed, receives_emails, unsubscribe_reason, subscribed_at, unsubscribed_at, bounced_at, "
        "consent_ip, field:<name> or skip.",
    )
    exporter = models.CharField(max_length=40, blank=True, help_text="The export recognised: Mailchimp…")
    subscribe = models.BooleanField(
        default=False,
        help_text="Subscribe to marketing emails: raises never subscribed and pending contacts, except rows "
        "the file marks as unsubscribed, never subscribed or not confirmed.",
    )
    consent = models.CharField(max_length=300, blank=True, help_text="How the people in the file agreed.")
    everyone = models.CharField(
        max_length=20,
        blank=True,
        choices=EveryoneInFile.choices,
        default=EveryoneInFile.NOTHING,
        help_text="What the file says of everyone in it: a list of people who unsubscribed, bounced…",
    )
    tags = models.JSONField(default=list, blank=True, help_text="Tags added to every contact imported.")
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.DRAFT)
    total = models.PositiveIntegerField(default=0, help_text="Rows read (blank lines aside).")
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0, help_text="Rows not imported: see the errors.")
    outcome = models.JSONField(
        default=list,
        blank=True,
        help_text="Per status the contacts ended with: how many were created and updated, and how many of "
        "those updated changed status.",
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent of the file read.")
    failure = models.TextField(blank=True, help_text="Why the job stopped, when it failed.")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by_api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        default_related_name = "imports"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "-created_at", "-id"], name="import_site_newest")]

    def __str__(self):
        return f"Import of {self.filename} ({self.status})"


class ImportRowError(SiteOwned):
    """A row of an import that was skipped, and why (row number, column, message). Rows are
    numbered as a spreadsheet shows them: the header is row 1."""

    contact_import = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=300)

    # The one message that names a contact: deleting the contact deletes it (contacts.services).
    ALSO_ON_ROW = " is also on row "

    @classmethod
    def duplicate(cls, email: str, kept: int) -> str:
        return f"{email}{cls.ALSO_ON_ROW}{kept}: row {kept} was imported, not this one."

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["site", "contact_import", "row"], name="importrowerror_site_row")]
