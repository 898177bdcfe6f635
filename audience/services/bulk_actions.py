"""The Contacts tab's actions on a selection — chosen contacts, or all that a segment matches — run as
jobs: add or remove a tag, subscribe (with the consent the team attests), unsubscribe, revoke an offer,
delete. Each batch of contacts is one transaction, so progress shows, a failure spoils nothing already
done, and a re-run resumes after the last contact worked (contacts are taken in id order). Grants to a
selection are grant jobs (audience.services.grant_jobs), which take the same selections.
"""

from collections import Counter
from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audience import segments
from contacts import services
from contacts.counts import contacts_changed
from contacts.errors import BulkActionError, ConsentError, ContactError, SegmentError
from contacts.models import (
    BulkAction,
    BulkActionKind,
    ConsentSource,
    Contact,
    ContactTag,
    JobStatus,
    SubscriptionStatus,
    Tag,
    UnsubscribeReason,
)
from creatorhub import audit
from creatorhub.models import AuditAction, Site, User
from creatorhub.roles import Scope
from creatorhub.tasks import NOT_STARTED, start_after_commit
from offers.models import Offer
from offers.services.access import revoke_offer

# What each action needs of the acting role (creatorhub.roles).
SCOPE_OF = {
    BulkActionKind.ADD_TAG: Scope.CONTACTS_TAG,
    BulkActionKind.REMOVE_TAG: Scope.CONTACTS_TAG,
    BulkActionKind.SUBSCRIBE: Scope.CONTACTS_WRITE,
    BulkActionKind.UNSUBSCRIBE: Scope.CONTACTS_WRITE,
    BulkActionKind.DELETE: Scope.CONTACTS_WRITE,
    BulkActionKind.REVOKE_OFFER: Scope.OFFERS_GRANT,
}
RUN_NOW_UP_TO = 100  # selections this small run in the request; larger ones on a worker
BATCH = 500
MAX_IDS = 10_000

# -- Selections ---------------------------------------------------------------------------------------


def clean_selection(site: Site, selection: dict) -> tuple[dict, str]:
    """The selection, checked, and what it is in words. `{"contact_ids": [...]}` for chosen contacts;
    `{"segment": key}` and/or `{"filters": {...}}` with an optional `search` for all that match."""
    if not isinstance(selection, dict):
        raise BulkActionError("Choose contacts, or all contacts of a segment.", field="selection")
    if "contact_ids" in selection:
        ids = selection["contact_ids"]
        if set(selection) != {"contact_ids"} or not isinstance(ids, list) or not ids:
            raise BulkActionError("Choose at least one contact.", field="contact_ids")
        if len(ids) > MAX_IDS or not all(isinstance(pk, int) and not isinstance(pk, bool) for pk in ids):
            raise BulkActionError(
                f"Give at most {MAX_IDS:,} contact ids (whole numbers); for more, select all matching.",
                field="contact_ids",
            )
        ids = sorted(set(ids))
        return {"contact_ids": ids}, f"{len(ids):,} selected contact{'s' if len(ids) != 1 else ''}"
    unknown = set(selection) - {"segment", "filters", "search"}
    if unknown or not selection:
        raise BulkActionError("Choose contacts, or all contacts of a segment.", field="selection")
    segment = segments.resolve(selection.get("segment", "all"))
    filters = segment.filters
    extra = {"all": []}
    if "filters" in selection:  # the filter builder's filters, on top of the segment's
        extra = segments.clean(site, selection["filters"])
        filters = {"all": filters["all"] + extra["all"]}
    search = str(selection.get("search") or "").strip()[: segments.MAX_SEARCH]
    words = f"the segment “{segment.name}”"
    phrases = segments.describe(extra)
    if phrases:
        words += " where " + ", ".join(phrases)
    if search:
        words += f" matching “{search}”"
    return {"filters": filters, "search": search}, words[:200]


def selected(site: Site, selection: dict) -> QuerySet[Contact]:
    """The contacts of a cleaned selection, as they are now."""
    if "contact_ids" in selection:
        return Contact.objects.filter(site=site, pk__in=selection["contact_ids"])
    return segments.matching(site, filters=selection["filters"], search=selection["search"])


# -- Starting and running -----------------------------------------------------------------------------


def start_bulk_action(
    site: Site, *, kind: str, selection: dict, params: dict | None = None, acting_user: User | None = None
) -> BulkAction:
    """Checks the action and its selection and records it. A small selection (`RUN_NOW_UP_TO`) is
    worked at once and the finished action returned; a larger one is run by a worker after commit."""
    from audience.tasks import run_bulk_action_task  # the task module imports this one

    if kind not in BulkActionKind.values:
        raise BulkActionError(f"Unknown action {kind!r}.", field="kind")
    try:
        selection, description = clean_selection(site, selection)
    except SegmentError as error:
        raise BulkActionError(error.message, field=error.field) from None
    with transaction.atomic():
        action = BulkAction.objects.create(
            site=site,
            kind=kind,
            params=_clean_params(site, kind, params or {}),
            selection=selection,
            description=description,
            total=selected(site, selection).count(),
            created_by=acting_user,
        )
        # One entry for the whole action: its contacts' own services run quiet (run_bulk_action).
        audit.record(
            site,
            AuditAction.BULK_ACTION_STARTED,
            target=action,
            target_label=action.get_kind_display(),
            changes={
                "kind": kind,
                "params": action.params,
                "selection": audit.without_search(description, selection),
                "count": action.total,
            },
            user=acting_user,
        )
        if action.total > RUN_NOW_UP_TO:
            start_after_commit(
                site,
                run_bulk_action_task,
                action,
                if_not_started={
                    "status": JobStatus.FAILED,
                    "error": NOT_STARTED,
                    "finished_at": timezone.now(),
                },
            )
            return action
    return run_bulk_action(site, action=action)


def _clean_params(site: Site, kind: str, params: dict) -> dict:
    if kind in (BulkActionKind.ADD_TAG, BulkActionKind.REMOVE_TAG):
        tag = params.get("tag")
        try:
            names = services.clean_tag_names([tag]) if isinstance(tag, str) else []
        except ContactError as error:  # too long
            raise BulkActionError(error.message, field="tag") from None
        if not names:
            raise BulkActionError("Name the tag.", field="tag")
        return {"tag": names[0]}
    if kind == BulkActionKind.SUBSCRIBE:
        consent = " ".join(str(params.get("consent", "")).split())
        if not consent:
            raise BulkActionError(
                "Say how these contacts gave their consent to marketing email.", field="consent"
            )
        return {"consent": consent[:300]}
    if kind == BulkActionKind.REVOKE_OFFER:
        offer = params.get("offer")
        is_id = isinstance(offer, int) and not isinstance(offer, bool)
        if not is_id or not Offer.objects.filter(pk=offer).exists():
            raise BulkActionError("Choose the offer to revoke.", field="offer")
        return {"offer": offer}
    return {}


def run_bulk_action(site: Site, *, action: BulkAction) -> BulkAction:
    """Works the selection in id order, one transaction per batch; safe to run again after a crash."""
    with transaction.atomic():
        action = BulkAction.objects.select_for_update().get(pk=action.pk)
        if action.status in (JobStatus.DONE, JobStatus.FAILED):
            return action
        action.status = JobStatus.RUNNING
        action.save(update_fields=["status"])
    handler = HANDLERS[action.kind]
    try:
        while True:
            with transaction.atomic():
                batch = list(
                    selected(site, action.selection)
                    .filter(pk__gt=action.last_contact_id)
                    .order_by("pk")[:BATCH]
                    .select_for_update()
                )
                if not batch:
                    break
                last = batch[-1].pk  # before the handler: a deleted contact has no pk
                with audit.quiet():  # audited once, when the team started it
                    outcomes = handler(site, action=action, contacts=batch)
                _tally(action, outcomes, len(batch), last=last)
                contacts_changed(site, at_once=True)  # a job the team started
    except Exception as error:
        action.status, action.finished_at = JobStatus.FAILED, timezone.now()
        action.error = f"The action stopped: {error.__class__.__name__}: {error}"
        action.save()
        raise
    action.status, action.finished_at = JobStatus.DONE, timezone.now()
    action.save()
    return action


def _tally(action: BulkAction, outcomes: Counter, worked: int, *, last: int) -> None:
    action.done += worked
    action.changed += outcomes.pop("changed", 0)
    for reason, n in outcomes.items():
        if not n:
            continue
        action.skipped += n
        action.skipped_reasons[reason] = action.skipped_reasons.get(reason, 0) + n
    action.last_contact_id = last
    action.save(update_fields=["done", "changed", "skipped", "skipped_reasons", "last_contact_id"])


# -- The actions ---------------------------------------------------------------------------


def _add_tag(site: Site, *, action: BulkAction, contacts: list[Contact]) -> Counter:
    (tag,) = services.tags_named(site, [action.params["tag"]])
    have = set(ContactTag.objects.filter(tag=tag, contact__in=contacts).values_list("contact_id", flat=True))
    ContactTag.objects.bulk_create(
        [ContactTag(site=site, contact=c, tag=tag) for c in contacts if c.pk not in have],
        ignore_conflicts=True,
    )
    return Counter({"changed": len(contacts) - len(have), "Already had the tag": len(have)})


def _remove_tag(site: Site, *, action: BulkAction, contacts: list[Contact]) -> Counter:
    tag = Tag.objects.filter(name__lower=action.params["tag"].lower()).first()
    removed = ContactTag.objects.filter(tag=tag, contact__in=contacts).delete()[0] if tag else 0
    return Counter({"changed": removed, "Did not have the tag": len(contacts) - removed})


def _consent(action: BulkAction, note: str) -> services.Consent:
    return services.Consent(source=ConsentSource.TEAM, note=note, user=action.created_by)


def _subscribe(site: Site, *, action: BulkAction, contacts: list[Contact]) -> Counter:
    outcomes = Counter()
    for contact in contacts:
        if contact.subscription_status == SubscriptionStatus.SUBSCRIBED:
            outcomes["Already subscribed"] += 1
            continue
        try:
            with transaction.atomic():
                services.subscribe(site, contact=contact, by=_consent(action, action.params["consent"]))
        except ConsentError:
            outcomes[f"Unsubscribed ({contact.get_unsubscribe_reason_display().lower()})"] += 1
        else:
            outcomes["changed"] += 1
    return outcomes


def _unsubscribe(site: Site, *, action: BulkAction, contacts: list[Contact]) -> Counter:
    outcomes = Counter()
    for contact in contacts:
        if contact.subscription_status == SubscriptionStatus.UNSUBSCRIBED:
            outcomes["Already unsubscribed"] += 1
            continue
        services.unsubscribe(
            site,
            contact=contact,
            reason=UnsubscribeReason.MANUAL,
            by=_consent(action, "Unsubscribed by the team from the Contacts tab"),
        )
        outcomes["changed"] += 1
    return outcomes


def _delete(site: Site, *, action: BulkAction, contacts: list[Contact]) -> Counter:
    for contact in contacts:
        services.delete_contact(site, contact=contact)
    return Counter({"changed": len(contacts)})


def _revoke_offer(site: Site, *, action: BulkAction, contacts: list[Contact]) -> Counter:
    offer = Offer.objects.filter(pk=action.params["offer"]).first()
    if offer is None:
        return Counter({"The offer was deleted": len(contacts)})
    ended = revoke_offer(
        site, offer=offer, contacts_ids=[c.pk for c in contacts], acting_user=action.created_by
    )
    return Counter({"changed": ended, "Did not hold the offer": len(contacts) - ended})


# kind → handler(site, *, action, contacts) -> Counter of outcomes: "changed" or a skip reason.
HANDLERS: dict[str, Callable[..., Counter]] = {
    BulkActionKind.ADD_TAG: _add_tag,
    BulkActionKind.REMOVE_TAG: _remove_tag,
    BulkActionKind.SUBSCRIBE: _subscribe,
    BulkActionKind.UNSUBSCRIBE: _unsubscribe,
    BulkActionKind.DELETE: _delete,
    BulkActionKind.REVOKE_OFFER: _revoke_offer,
}
