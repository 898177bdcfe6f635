from django.apps import AppConfig


class CreatorHubConfig(AppConfig):
    name = "creatorhub"
    verbose_name = "CreatorHub"
