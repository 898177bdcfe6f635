from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = "Offers"

    def ready(self):
        from creatorhub import personal_data
        from offers.selectors import offers_data_of
        from offers.services.erasure import erase_offers_data

        personal_data.register("offers", export=offers_data_of, erase=erase_offers_data)
