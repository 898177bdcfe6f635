"""Forms of the contacts pages: they check the shape of the input; the rules live in contacts.services."""

from django import forms
from django.utils.text import slugify


class ContactForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    name = forms.CharField(max_length=200, required=False)


class SubscribeForm(forms.Form):
    """The team records consent only with a statement of how it was given, and an attestation."""

    statement = forms.CharField(
        label="How did they give consent?",
        max_length=300,
        help_text="For example “signed up at my spring workshop”. It is kept in their consent history.",
        error_messages={"required": "Say how this person gave consent."},
    )
    attestation = forms.BooleanField(
        label="I confirm this person agreed to receive marketing emails",
        error_messages={"required": "Confirm that this person agreed to receive marketing emails."},
    )


class TagsForm(forms.Form):
    """Either `add` (comma-separated names) or `remove` (one name)."""

    add = forms.CharField(max_length=2000, required=False)
    remove = forms.CharField(max_length=100, required=False)

    def clean_add(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["add"].split(",") if name.strip()]

    def clean(self):
        data = super().clean()
        if not data.get("add") and not data.get("remove"):
            raise forms.ValidationError("Type the name of a tag to add.")
        return data


class SignupFormForm(forms.Form):
    """The settings of a public sign-up form (contacts.models.Form)."""

    name = forms.CharField(max_length=120)
    slug = forms.SlugField(
        label="Address",
        max_length=60,
        required=False,
        help_text="The last part of the form's public address: letters, digits and hyphens. Leave it "
        "empty to make one from the name. Changing it breaks links to the old address.",
    )
    double_opt_in = forms.BooleanField(
        label="Double opt-in",
        required=False,
        initial=True,
        help_text="Send a confirmation email; they are subscribed once they confirm.",
    )
    ask_name = forms.BooleanField(label="Ask for their name", required=False, initial=True)
    tag_names = forms.CharField(
        label="Tags to add",
        max_length=2000,
        required=False,
        help_text="Comma-separated; added to everyone who submits the form.",
    )
    redirect_url = forms.URLField(
        label="Redirect URL",
        required=False,
        assume_scheme="https",
        help_text="Where to send people after they submit. Empty: they see the success message.",
    )
    success_message = forms.CharField(max_length=300, required=False)

    def clean_tag_names(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["tag_names"].split(",") if name.strip()]

    def clean(self):
        data = super().clean()
        if not data.get("slug") and data.get("name") and "slug" not in self.errors:
            data["slug"] = slugify(data["name"])[:60].strip("-")
            if not data["slug"]:
                self.add_error("slug", "Choose an address with letters or digits.")
        return data

    @classmethod
    def initial_from(cls, form) -> dict:
        return {
            "name": form.name,
            "slug": form.slug,
            "double_opt_in": form.double_opt_in,
            "ask_name": form.ask_name,
            "tag_names": ", ".join(form.tag_names),
            "redirect_url": form.redirect_url,
            "success_message": form.success_message,
        }
