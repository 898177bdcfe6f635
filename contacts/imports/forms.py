"""Forms of the import pages: they check the shape of the input; the rules live in the services."""

from django import forms
from django.conf import settings

from contacts.imports.mapping import choices_for
from contacts.imports.services import megabytes
from contacts.models import EveryoneInFile

EVERYONE_HELP = (
    "For a list of the people who left your old platform (Kajabi exports its unsubscribed contacts as a "
    "list of their own). Mailchimp exports one file per status: its unsubscribed and cleaned files are "
    "recognised by their columns, its nonsubscribed file only by its name."
)
PASTE_MAX = 2_000_000  # characters; Django refuses a form over 2.5 MB (DATA_UPLOAD_MAX_MEMORY_SIZE)


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        required=False,
        help_text=f"Comma, semicolon or tab separated; up to {megabytes(settings.IMPORT_MAX_BYTES)}. Exports "
        "of Kajabi, Mailchimp, ConvertKit, Ghost and Substack are recognised.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv,text/plain"}),
    )
    text = forms.CharField(
        label="Or paste the rows",
        required=False,
        max_length=PASTE_MAX,
        help_text="One contact per line, with a first line naming the columns (or only email addresses).",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )
    everyone = forms.ChoiceField(
        label="Everyone in this file…",
        required=False,
        choices=EveryoneInFile.choices,
        help_text=EVERYONE_HELP,
    )
    tags = forms.CharField(
        label="Tags to add",
        max_length=2000,
        required=False,
        help_text="Comma-separated; added to every contact of the file.",
    )
    subscribe = forms.BooleanField(
        label="Subscribe to marketing emails",
        required=False,
        help_text="Contacts who never subscribed or have not confirmed yet become subscribed, except those "
        "the file says unsubscribed, bounced, complained, never subscribed or did not confirm. Nobody "
        "who unsubscribed, bounced or complained is subscribed again.",
    )
    consent = forms.CharField(
        label="How did they agree to receive marketing emails?",
        max_length=300,
        required=False,
        help_text="For example “they signed up to my newsletter on Mailchimp”. It is kept in each "
        "subscribed contact's consent history.",
    )
    attestation = forms.BooleanField(
        label="I confirm that everyone in this file agreed to receive marketing emails from me",
        required=False,
    )

    def clean_tags(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]

    def clean(self):
        data = super().clean()
        if bool(data.get("file")) == bool(data.get("text", "").strip()):
            self.add_error("file", "Choose a CSV file, or paste its rows (one or the other).")
        if data.get("subscribe"):
            if not data.get("consent", "").strip():
                self.add_error(
                    "consent", "Say how the people in this file agreed to receive marketing emails."
                )
            if not data.get("attestation"):
                self.add_error(
                    "attestation", "Confirm that everyone in this file agreed to marketing emails."
                )
        return data


class MappingForm(forms.Form):
    """One choice per column of the file, what it becomes; and what the file says of everyone in it."""

    def __init__(self, *args, headers: list[str], targets: list[str], everyone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        for n, (header, target) in enumerate(zip(headers, targets, strict=True)):
            self.fields[f"column_{n}"] = forms.ChoiceField(
                label=header or f"Column {n + 1}", choices=choices_for(header), initial=target
            )
        self.fields["everyone"] = forms.ChoiceField(
            label="Everyone in this file…",
            required=False,
            choices=EveryoneInFile.choices,
            initial=everyone,
            help_text=EVERYONE_HELP,
        )

    def columns(self) -> list:
        """The columns' choices (bound fields), in file order."""
        return [self[f"column_{n}"] for n in range(len(self.headers))]

    def targets(self) -> list[str]:
        return [self.cleaned_data[f"column_{n}"] for n in range(len(self.headers))]
