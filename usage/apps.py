from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "usage"
    verbose_name = "Usage"

    def ready(self):
        from creatorhub import explanations
        from usage.selectors.active_customers import explain_activity

        # What the contacts app says of a contact, without importing this app (creatorhub.explanations).
        explanations.register("active_customer", explain_activity)
        explanations.register_flag("is_active_customer", active_customers_today, same_while=site_day)
        explanations.register_condition("active_customer", active_customers_today)


def site_day(site):
    """What today's rule depends on: the site's day in its time zone."""
    return site.time_zone, site.today()


def active_customers_today(site):
    """Today's active customers of the site, by the one rule (usage.selectors.active_customers), as a
    condition on each contact (EXISTS on its accesses and events): the segment filter "active customer",
    and the flag `is_active_customer` the contacts API reads with its rows. (Written `pk IN (the site's
    active customers)`, a page of the contacts who are not would read every active customer of the site.)"""
    from usage.selectors.active_customers import active_customer_condition, window_of

    return active_customer_condition(*window_of(site, site.today()))
