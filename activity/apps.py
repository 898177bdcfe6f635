from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "activity"
    verbose_name = "Activity"

    def ready(self):
        from activity.feed import contact_timeline
        from activity.selectors import activity_of, explain_activity
        from activity.services import anonymise_activity, record_one
        from creatorhub import events, explanations, personal_data

        events.open_door(record_one)
        # What the contacts app says of a contact, without importing this app (creatorhub.explanations).
        explanations.register("active_customer", explain_activity)
        explanations.register_flag("is_active_customer", active_customer_flags)
        explanations.register_timeline(contact_timeline)
        explanations.register_condition("active_customer", active_customers_today)
        personal_data.register("activity", export=activity_of, erase=anonymise_activity)


def active_customers_today(site):
    """The segment filter "active customer": today's active customers of the site, by the one rule."""
    from django.db.models import Q

    from activity.selectors import active_customers, today_of

    return Q(pk__in=active_customers(site, today_of(site)).values("pk"))


def active_customer_flags(site, contacts) -> dict[int, bool]:
    """{contact id: is an active customer today} for a page of the site's contacts, in one query, by
    the same rule as the nightly count (activity.selectors)."""
    from activity.selectors import active_customers, today_of

    ids = {contact.pk for contact in contacts}
    active = set(active_customers(site, today_of(site)).filter(pk__in=ids).values_list("pk", flat=True))
    return {pk: pk in active for pk in ids}
