from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = "Offers"

    def ready(self):
        from contacts import bulk
        from contacts.models import BulkActionKind
        from offers.services.access import revoke_from_selection

        bulk.register(BulkActionKind.REVOKE_OFFER, revoke_from_selection)
