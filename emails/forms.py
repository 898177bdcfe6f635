"""Forms of the emails pages: they check the shape of the input; the template rules live in
emails.services (save_template)."""

from django import forms

from emails.models import EmailKind, EmailStatus
from emails.rendering import MAX_BODY, MAX_SUBJECT


class EmailTemplateForm(forms.Form):
    subject = forms.CharField(max_length=MAX_SUBJECT, widget=forms.TextInput(attrs={"spellcheck": "true"}))
    body_text = forms.CharField(
        label="Text body",
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 12, "class": "email-code"}),
        help_text="What mail apps show when they do not show HTML.",
    )
    body_html = forms.CharField(
        label="HTML body",
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 16, "class": "email-code", "spellcheck": "false"}),
        help_text="Variables are HTML-escaped in this part: a contact named <b> shows as text.",
    )


class EmailLogFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *EmailStatus.choices], required=False)
    kind = forms.ChoiceField(label="Email", choices=[("", "Any email"), *EmailKind.choices], required=False)
