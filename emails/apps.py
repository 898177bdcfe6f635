from django.apps import AppConfig


class EmailsConfig(AppConfig):
    name = "emails"
    verbose_name = "Emails"

    def ready(self):
        from creatorhub import personal_data
        from emails.services import emails_of, forget_recipient

        personal_data.register("emails", export=emails_of, erase=forget_recipient)

        from anymail.signals import tracking

        from emails.webhooks import record_tracking_event

        tracking.connect(record_tracking_event, dispatch_uid="emails.webhooks.record_tracking_event")
