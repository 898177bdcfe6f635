"""Grants to many contacts at once — chosen contacts, a segment, or a pasted list of emails — run
as a job with progress and a result summary (granted, skipped, failed)."""

from django.db import transaction
from django.utils import timezone

from activity.services import NewEvent, record_events
from audience.services import bulk_actions
from contacts import services as contacts
from contacts.counts import contacts_changed
from contacts.models import Contact, ContactOrigin
from creatorhub import audit
from creatorhub.errors import DomainError
from creatorhub.models import AuditAction, Site
from creatorhub.tasks import NOT_STARTED, start_after_commit
from emails.models import EmailKind
from emails.services import send_automated_to_many, start_sending
from offers.errors import GrantError
from offers.models import Access, AccessSource, GrantJob, JobStatus, Offer
from offers.services.access import PLATFORM, Granter, check_grantable, offer_context
from offers.services.members import set_password_url

MAX_TARGETS = 100_000
LISTED = 1000  # skipped and failed targets kept with their reason, at most
BATCH = 500


SELECTION = {"segment", "filters", "search"}  # all the contacts a segment matches (bulk_actions)


def _clean_target(site: Site, target: dict) -> tuple[dict, int | None]:
    """The target and its size when known before running. A segment (a default one's key or a saved
    one's id, with the Contacts tab's filters and search on top) is kept as its compiled filters and
    its description, and matched when the job runs."""
    given = {key: value for key, value in target.items() if value not in (None, [], "", {})}
    if given and set(given) <= SELECTION:
        try:
            selection, words = bulk_actions.clean_selection(site, given)
        except DomainError as error:
            field = error.field if error.field in SELECTION else "segment"  # "filters" when they are wrong
            raise GrantError(error.message, field=field) from None
        return {**selection, "segment": str(given.get("segment", "all")), "description": words}, None
    if len(given) != 1 or not set(given) <= {"contact_ids", "emails"}:
        raise GrantError("Give exactly one of contact_ids, emails or segment.", field="target")
    ((kind, value),) = given.items()
    if not isinstance(value, list) or len(value) > MAX_TARGETS:
        raise GrantError(f"Give a list of at most {MAX_TARGETS:,} {kind.replace('_', ' ')}.", field=kind)
    if kind == "contact_ids" and not all(isinstance(pk, int) for pk in value):
        raise GrantError("Contact ids are whole numbers.", field=kind)
    if kind == "contact_ids":
        unique = list(dict.fromkeys(value))
    else:  # one per address whatever its case, keeping the first spelling
        first = {}
        for email in (str(e).strip() for e in value):
            if email:
                first.setdefault(email.lower(), email)
        unique = list(first.values())
    return {kind: unique}, len(unique)


@transaction.atomic
def start_grant_job(
    site: Site,
    *,
    offer: Offer,
    target: dict,
    send_grant_email: bool = True,
    by: Granter = PLATFORM,
    queue: bool = True,
) -> GrantJob:
    """Creates the job; with `queue`, a worker runs it after commit (else the caller runs it now)."""
    from audience.tasks import run_grant_job_task  # the task module imports this one

    if offer.site_id != site.pk:
        raise GrantError("That offer belongs to another site.")
    if not offer.is_active:
        raise GrantError(
            f"The offer “{offer.title}” is archived: restore it before granting it.", field="offer"
        )
    target, size = _clean_target(site, target)
    if size is None:
        size = bulk_actions.selected(site, target).count()
    job = GrantJob.objects.create(
        site=site,
        offer=offer,
        target=target,
        send_grant_email=send_grant_email,
        total=size,
        created_by=by.user,
        created_by_api_key=by.api_key,
    )
    audit.record(  # the act is the team's asking; the job's contacts are granted quiet (run_grant_job)
        site,
        AuditAction.GRANT_REQUESTED,
        target=offer,
        changes={
            "to": _described(target),
            "contacts": target.get("contact_ids", [])[: audit.LISTED_IDS],
            "asked": size,  # the job's page says how many it granted and skipped
            "send_grant_email": send_grant_email,
            "grant_job": job.pk,
        },
        user=by.user,
        api_key=by.api_key,
    )
    if queue:
        start_after_commit(
            site,
            run_grant_job_task,
            job,
            if_not_started={
                "status": JobStatus.FAILED,
                "errors": [{"target": "", "reason": NOT_STARTED}],
                "finished_at": timezone.now(),
            },
        )
    return job


def _described(target: dict) -> str:
    """A grant job's target in words, naming no person (no pasted email)."""
    if "contact_ids" in target:
        n = len(target["contact_ids"])
        return f"{n:,} chosen contact{'s' if n != 1 else ''}"
    if "emails" in target:
        n = len(target["emails"])
        return f"{n:,} listed email{'s' if n != 1 else ''}"
    return audit.without_search(target.get("description", "a segment"), target)


def run_grant_job(site: Site, *, job: GrantJob) -> GrantJob:
    """Runs the job, one transaction per contact, so progress shows and one failure spoils nothing
    else. Safe to run again after a crash: contacts granted by this job count as granted, not twice."""
    with transaction.atomic():
        job = GrantJob.objects.select_for_update().get(pk=job.pk)
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        job.status, job.granted, job.skipped, job.failed, job.skips, job.errors = (
            JobStatus.RUNNING,
            0,
            0,
            0,
            [],
            [],
        )
        job.save()
    try:
        with audit.quiet():  # audited once, when it was started
            _grant_each(site, job)
    except Exception as error:
        # A failure no grant explains (the database went away…): the job says so rather than spin.
        job.status, job.finished_at = JobStatus.FAILED, timezone.now()
        job.errors.append({"target": "", "reason": f"The job stopped: {error.__class__.__name__}: {error}"})
        job.save()
        raise
    job.status, job.finished_at = JobStatus.DONE, timezone.now()
    job.save()
    contacts_changed(site, at_once=True)  # its grants, made by a worker, did not
    return job


def _grant_each(site: Site, job: GrantJob) -> None:
    chunk: list[tuple[str, Contact]] = []
    for label, contact_or_error in _targets(site, job):
        if isinstance(contact_or_error, str):
            _note(job, "failed", label, contact_or_error)
            continue
        chunk.append((label, contact_or_error))
        if len(chunk) == BATCH:
            _grant_chunk(site, job, chunk)
            chunk = []
    if chunk:
        _grant_chunk(site, job, chunk)


def _grant_chunk(site: Site, job: GrantJob, chunk: list[tuple[str, Contact]]) -> None:
    """Grants the offer to a chunk of contacts in one transaction of set-based statements (as
    grant_offer does for one): the accesses, the customer flags, the activity events and the outbox rows,
    with the job's progress. A contact who holds the offer is skipped. Run again after a crash, the
    contacts this job granted count as granted, and nothing is written twice (unique keys)."""
    offer, by = job.offer, Granter(user=job.created_by, api_key=job.created_by_api_key)
    try:
        check_grantable(offer)
    except GrantError as error:
        for label, _ in chunk:
            _note(job, "failed", label, error.message)
        job.save(update_fields=["failed", "errors"])
        return
    contacts = {contact.pk: contact for _, contact in chunk}
    with transaction.atomic():
        holders = set(
            Access.objects.filter(offer=offer, contact__in=list(contacts), revoked_at=None)
            .exclude(grant_job=job)
            .values_list("contact_id", flat=True)
        )
        customers_before = set(
            Contact.objects.filter(pk__in=list(contacts), is_customer=True).values_list("pk", flat=True)
        )
        Access.objects.bulk_create(
            [
                Access(
                    site=site,
                    contact_id=pk,
                    offer=offer,
                    source=AccessSource.GRANT,
                    granted_by=by.user,
                    granted_by_api_key=by.api_key,
                    grant_job=job,
                )
                for pk in contacts
                if pk not in holders
            ],
            ignore_conflicts=True,  # granted at this moment by someone else: they hold it
        )
        granted = dict(
            Access.objects.filter(grant_job=job, contact__in=list(contacts)).values_list("contact_id", "pk")
        )
        newcomers = [pk for pk in granted if pk not in customers_before]
        Contact.objects.filter(pk__in=newcomers).update(is_customer=True)
        record_events(
            site,
            [
                NewEvent(
                    contact=contacts[pk],
                    kind="offer_granted",
                    occurred_at=timezone.now(),
                    details={"offer": offer.title, "offer_id": offer.pk},
                    external_id=f"grant:{access}",
                )
                for pk, access in granted.items()
            ],
        )
        if job.send_grant_email:
            context = offer_context(site, offer)
            send_automated_to_many(
                site,
                kind=EmailKind.OFFER_GRANT_CONFIRMATION,
                emails=[(contacts[pk], context, f"grant:{access}") for pk, access in granted.items()],
            )
        send_automated_to_many(
            site,
            kind=EmailKind.MEMBER_WELCOME,
            emails=[
                (
                    contacts[pk],
                    {
                        "offer": {"title": offer.title},
                        "set_password_url": set_password_url(site, contacts[pk]),
                    },
                    f"welcome:{granted[pk]}",
                )
                for pk in newcomers
            ],
        )
        for label, contact in chunk:
            if contact.pk in granted:
                job.granted += 1
            else:
                _note(job, "skipped", label, "Already holds the offer.")
        job.save(update_fields=["granted", "skipped", "failed", "skips", "errors"])
    start_sending(site)


def _note(job: GrantJob, outcome: str, label: str, reason: str) -> None:
    setattr(job, outcome, getattr(job, outcome) + 1)
    listed = job.skips if outcome == "skipped" else job.errors
    if len(listed) < LISTED:
        listed.append({"target": label, "reason": reason})


def _targets(site: Site, job: GrantJob):
    """(label, contact) for each target, or (label, error message) for one that cannot be granted."""
    target = job.target
    if "contact_ids" in target:
        ids = target["contact_ids"]
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            found = Contact.objects.in_bulk(chunk)
            for pk in chunk:
                yield str(pk), found.get(pk) or f"No contact with id {pk} on this site."
    elif "emails" in target:
        for email in target["emails"]:
            try:
                contact, _ = contacts.get_or_create_contact(site, email=email, origin=ContactOrigin.GRANT)
            except DomainError as error:
                yield email, error.message
            else:
                yield email, contact
    else:
        last = 0
        matching = bulk_actions.selected(site, target)
        while True:
            batch = list(matching.filter(pk__gt=last).order_by("pk")[:BATCH])
            if not batch:
                return
            for contact in batch:
                yield contact.email, contact
            last = batch[-1].pk
