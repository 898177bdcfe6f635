from django.apps import AppConfig


class AudienceConfig(AppConfig):
    """The creator's view of their people: segments, the Contacts tab, actions on many contacts, exports
    and a contact's "why". The top room: it imports contacts, activity, offers and usage directly."""

    name = "audience"
    verbose_name = "Audience"
