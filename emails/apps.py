from django.apps import AppConfig


class EmailsConfig(AppConfig):
    name = "emails"
    verbose_name = "Emails"

    def ready(self):
        from creatorhub import personal_data
        from emails.services import emails_of, forget_recipient

        personal_data.register("emails", export=emails_of, erase=forget_recipient)
