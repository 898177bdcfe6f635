from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "activity"
    verbose_name = "Activity"

    def ready(self):
        from activity.feed import contact_timeline
        from activity.selectors import activity_of
        from activity.services import anonymise_activity, record_one
        from creatorhub import events, explanations, personal_data

        events.open_door(record_one)
        # The contact page's Activity section, without the contacts app importing this one.
        explanations.register_timeline(contact_timeline)
        personal_data.register("activity", export=activity_of, erase=anonymise_activity)
