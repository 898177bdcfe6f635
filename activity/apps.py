from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "activity"
    verbose_name = "Activity"

    def ready(self):
        from activity.services import record_one
        from creatorhub import events

        events.open_door(record_one)
