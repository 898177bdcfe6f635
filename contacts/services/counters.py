"""Folding the exact counters' rows (ContactCount) that the database's triggers write."""

from collections import Counter

from django.db import connections, transaction

from contacts.models import (
    ContactCount,
)
from creatorhub.models import Site
from creatorhub.tenancy import platform_wide

FOLD_AFTER_ROWS = 20  # more than the 14 groups a site can have (statuses, reasons, customer or not)


def fold_contact_counts() -> int:
    """Sums each site's counter rows (ContactCount) into one per group, for the sites with more rows than
    groups, and drops the rows of deleted sites; how many sites were folded. The rows are deleted and
    returned by one statement, so a change committed meanwhile is either folded or left as it is."""
    table = ContactCount._meta.db_table
    sums: Counter = Counter()
    with platform_wide("contact counts: folding every site's changes"), transaction.atomic():
        with connections[ContactCount.objects.db].cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE site_id IN (SELECT site_id FROM {table} GROUP BY site_id "  # noqa: S608
                "HAVING count(*) > %s) "
                "RETURNING site_id, subscription_status, unsubscribe_reason, is_customer, contacts",
                [FOLD_AFTER_ROWS],
            )
            for *group, contacts in cursor.fetchall():
                sums[tuple(group)] += contacts
        sites = set(Site.objects.filter(pk__in={group[0] for group in sums}).values_list("pk", flat=True))
        ContactCount.objects.bulk_create(
            ContactCount(
                site_id=site_id,
                subscription_status=status,
                unsubscribe_reason=reason,
                is_customer=is_customer,
                contacts=contacts,
            )
            for (site_id, status, reason, is_customer), contacts in sums.items()
            if contacts and site_id in sites
        )
    return len({group[0] for group in sums})
