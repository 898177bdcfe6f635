from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "activity"
    verbose_name = "Activity"

    def ready(self):
        from activity.selectors import activity_of
        from activity.services import anonymise_activity, record_one
        from creatorhub import events, personal_data

        events.open_door(record_one)
        personal_data.register("activity", export=activity_of, erase=anonymise_activity)
