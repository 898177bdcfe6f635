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
        explanations.register_flag("is_active_customer", active_customers_today, same_while=site_day)
        explanations.register_timeline(contact_timeline)
        explanations.register_condition("active_customer", active_customers_today)
        personal_data.register("activity", export=activity_of, erase=anonymise_activity)


def site_day(site):
    """What today's rule depends on: the site's day in its time zone."""
    return site.time_zone, site.today()


def active_customers_today(site):
    """Today's active customers of the site, by the one rule (activity.selectors), as a condition on
    each contact (EXISTS on its accesses and events): the segment filter "active customer", and the flag
    `is_active_customer` the contacts API reads with its rows. (Written `pk IN (the site's active
    customers)`, a page of the contacts who are not took 1.3 s at a million contacts; this, under 1 ms.)"""
    from activity.selectors import active_customer_condition, window_of

    return active_customer_condition(*window_of(site, site.today()))
