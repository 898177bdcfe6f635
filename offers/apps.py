from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = "Offers"

    def ready(self):
        from contacts import bulk
        from contacts.models import BulkActionKind
        from creatorhub import personal_data
        from offers.selectors import offers_data_of
        from offers.services.access import revoke_from_selection
        from offers.services.erasure import erase_offers_data

        bulk.register(BulkActionKind.REVOKE_OFFER, revoke_from_selection)
        personal_data.register("offers", export=offers_data_of, erase=erase_offers_data)
