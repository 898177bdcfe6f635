"""Email service providers' tracking webhooks (bounces and complaints), through django-anymail.

Mounted under /webhooks/; each provider is given its URL with the webhook secret (creatorhub/settings.py,
the ANYMAIL block, says what an operator sets).
"""

from django.urls import path

from emails import webhooks

urlpatterns = [
    path("postmark/tracking/", webhooks.PostmarkTrackingView.as_view(), name="postmark_tracking_webhook"),
    path("sendgrid/tracking/", webhooks.SendGridTrackingView.as_view(), name="sendgrid_tracking_webhook"),
    path("mailgun/tracking/", webhooks.MailgunTrackingView.as_view(), name="mailgun_tracking_webhook"),
    path(
        "amazon_ses/tracking/", webhooks.AmazonSESTrackingView.as_view(), name="amazon_ses_tracking_webhook"
    ),
]
