"""The top of the apps: who is an active customer, each site's usage against its plan (the nightly run,
the usage page and API, support's overage cases), and the site's Overview, which reads the figures of
contacts, activity, offers and emails."""
