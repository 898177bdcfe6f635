"""Forms of the offers pages: they check the shape of the input; the rules live in offers.services.

Forms that offer a choice of the site's rows (products, contacts) take their queryset from the view,
which builds it inside the site's scope: an id of another site is then "not one of the choices".
"""

import re

from django import forms

from contacts.models import DEFAULT_SEGMENTS, Segment

CURRENCY_MESSAGE = "Use a three-letter currency code such as USD or EUR."


class OfferForm(forms.Form):
    title = forms.CharField(max_length=200, error_messages={"required": "Give the offer a title."})
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    price = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        initial=0,
        error_messages={
            "required": "Give a price; 0 for a free offer.",
            "min_value": "The price cannot be negative.",
        },
    )
    currency = forms.CharField(
        max_length=3,
        initial="USD",
        help_text="A three-letter code: USD, EUR, GBP…",
        error_messages={"required": CURRENCY_MESSAGE, "max_length": CURRENCY_MESSAGE},
    )
    products = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="What holding the offer unlocks.",
    )

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["products"].queryset = products

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["product_ids"] = [product.pk for product in data.pop("products")]
        return data

    @classmethod
    def initial_from(cls, offer) -> dict:
        return {
            "title": offer.title,
            "description": offer.description,
            "price": offer.price,
            "currency": offer.currency,
            "products": list(offer.products.all()),
        }


class ProductForm(forms.Form):
    title = forms.CharField(max_length=200, error_messages={"required": "Give the product a title."})
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)


class NewProductForm(ProductForm):
    lesson_titles = forms.CharField(
        label="Lessons",
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text="One lesson title per line, in order. You can add, rename and delete lessons later.",
    )

    def clean_lesson_titles(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["lesson_titles"].splitlines() if line.strip()]


class LessonForm(forms.Form):
    title = forms.CharField(max_length=200, error_messages={"required": "Give the lesson a title."})
    body = forms.CharField(label="Content", widget=forms.Textarea(attrs={"rows": 8}), required=False)


def split_emails(text: str) -> list[str]:
    """The addresses of a pasted list: one per line or separated by commas (or semicolons, spaces),
    each once, compared case-insensitively and kept as typed. Not validated here: an invalid address
    is reported as a failure of the grant, the others are granted."""
    unique = {}
    for email in re.split(r"[\s,;]+", text):
        if email:
            unique.setdefault(email.lower(), email)
    return list(unique.values())


class GrantForm(forms.Form):
    """Who gets the offer: exactly one of an email, a pasted list of emails, a default segment, or
    (from a selection of contacts elsewhere in the dashboard) contact ids."""

    email = forms.EmailField(
        label="One contact's email",
        max_length=254,
        required=False,
        help_text="A new contact is created when nobody has this email yet.",
    )
    emails = forms.CharField(
        label="A list of emails",
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="One per line or separated by commas. New contacts are created for new emails.",
    )
    segment = forms.ChoiceField(
        label="A segment",
        choices=[],  # the default segments and the site's saved ones: see __init__
        widget=forms.RadioSelect,
        required=False,
    )
    contact_ids = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.MultipleHiddenInput
    )
    send_grant_email = forms.BooleanField(
        label="Send offer grant email",
        required=False,
        initial=True,
        help_text="The Offer Grant Confirmation. New customers also get the Member Welcome, with a link "
        "to set their password.",
    )

    TARGETS = ("email", "emails", "segment", "contact_ids")

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_ids"].queryset = contacts
        self.fields["segment"].choices = [
            ("", "No segment: the email or list above"),
            *((key, segment.name) for key, segment in DEFAULT_SEGMENTS.items()),
            *((str(pk), name) for pk, name in Segment.objects.values_list("pk", "name")),
        ]

    def clean_emails(self) -> list[str]:
        return split_emails(self.cleaned_data["emails"])

    def clean(self):
        data = super().clean()
        given = [name for name in self.TARGETS if data.get(name) or name in self.errors]
        if not given:
            raise forms.ValidationError(
                "Choose who gets the offer: one email, a list of emails or a segment."
            )
        if len(given) > 1:
            raise forms.ValidationError(
                "Choose only one of: one email, a list of emails or a segment — not several at once."
            )
        return data

    def target(self) -> dict:
        """The target as audience.services.grant_jobs.start_grant_job takes it."""
        data = self.cleaned_data
        if data["email"]:
            return {"emails": [data["email"]]}
        if data["emails"]:
            return {"emails": data["emails"]}
        if data["segment"]:
            return {"segment": data["segment"]}
        return {"contact_ids": sorted(contact.pk for contact in data["contact_ids"])}  # a stable order


class RevokeForm(forms.Form):
    """The contacts whose access to one offer ends."""

    contact_ids = forms.ModelMultipleChoiceField(
        queryset=None,
        error_messages={"required": "Select the contacts whose access to revoke."},
    )

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_ids"].queryset = contacts
