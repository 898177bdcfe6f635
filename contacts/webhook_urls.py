"""Email service providers' tracking webhooks (bounces and complaints), through django-anymail."""

urlpatterns = []
