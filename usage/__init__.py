"""The top of the apps: the site's Overview, which reads the figures of contacts, activity, offers and
emails."""
