"""A deleted contact's traces in the offers room (registered with creatorhub.personal_data): their
accesses and lesson completions go with them; purchases — money events the site's books rest on —
stay, with the buyer's email removed; grant jobs forget the address where they listed it."""

from django.db.models import Q

from contacts.models import Contact
from offers.models import GrantJob, Purchase

ERASED = "(deleted contact)"


def erase_offers_data(contact: Contact, anonymous_id: str) -> None:
    email = contact.email.lower()
    Purchase.objects.filter(Q(contact=contact) | Q(email__lower=email)).update(email="", contact=None)
    for job in GrantJob.objects.only("target", "skips", "errors"):
        emails = job.target.get("emails", [])
        listed = job.skips + job.errors
        if any(e.lower() == email for e in emails) or any(r["target"].lower() == email for r in listed):
            job.target = {**job.target, "emails": [ERASED if e.lower() == email else e for e in emails]}
            for row in listed:
                row["target"] = ERASED if row["target"].lower() == email else row["target"]
            job.save(update_fields=["target", "skips", "errors"])
