from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts"

    def ready(self):
        from anymail.signals import tracking

        from contacts.webhooks import record_tracking_event

        tracking.connect(record_tracking_event, dispatch_uid="contacts.webhooks.record_tracking_event")
