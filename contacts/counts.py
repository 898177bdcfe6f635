"""What the contacts room tells the counts above it: the exact counters (ContactCount, kept by the
database's triggers) and a generation that moves when the team changes contacts, so the rooms above
that cache counts of their own (audience.segments) know when to count again."""

import time

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, Sum

from contacts.models import ContactCount, SubscriptionStatus
from creatorhub import audit
from creatorhub.compiled import built
from creatorhub.models import ActorKind, Site


def contact_totals(site: Site) -> dict[str, int]:
    """The site's contacts, subscribers and customers, exact, from the counters in one query. The query
    is built once per site (creatorhub.compiled): every view of the Contacts tab and the Overview reads
    it, and building it cost the ORM more than PostgreSQL takes to run it (the contacts benchmark, "Tab
    first view after a change")."""
    sums = built(
        ("contact-totals", site.pk),
        lambda: (
            ContactCount.objects.filter(site=site)
            .values("site")
            .annotate(
                everyone=Sum("contacts"),  # not "contacts": an annotation may not take its column's name
                subscribers=Sum("contacts", filter=Q(subscription_status=SubscriptionStatus.SUBSCRIBED)),
                customers=Sum("contacts", filter=Q(is_customer=True)),
            )
        ),
        [],
    ).values()
    totals = sums[0] if sums else {}
    return {  # PostgreSQL sums bigints as numerics
        "contacts": int(totals.get("everyone") or 0),
        "subscribers": int(totals.get("subscribers") or 0),
        "customers": int(totals.get("customers") or 0),
    }


def count_generation(site: Site) -> int:
    """The current generation of the site's cached counts; it moves on with every team change."""
    return cache.get_or_set(f"segment-generation:{site.pk}", time.time_ns, None)


def contacts_changed(site: Site, *, at_once: bool | None = None) -> None:
    """Contacts changed: the contacts services call it for every change of a contact, its status or
    tags; offers for a change of customers. The site's cached counts are forgotten once the current
    transaction commits when the change is the team's (`at_once` None: the one acting, creatorhub.audit,
    is a team member) or `at_once`; otherwise they show it within their lifetime."""
    if at_once is None:
        at_once = audit.current_actor().kind == ActorKind.TEAM
    if at_once:
        transaction.on_commit(lambda: _next_generation(site.pk), robust=True)


def _next_generation(site_id: int) -> None:
    try:
        cache.incr(f"segment-generation:{site_id}")
    except ValueError:  # no generation cached yet (or evicted): any new one starts afresh
        cache.set(f"segment-generation:{site_id}", time.time_ns(), None)
