from django import forms

from creatorhub.roles import Role


def add_domain_error(form: forms.Form, error) -> None:
    """A service's refusal (a DomainError) shown on the form: on its field when the form has one, else
    above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ADMIN)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What will use it, such as “Zapier” or “Checkout”.")
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.ADMIN,
        help_text="The key may do what a team member of this role may do.",
    )


class NewAccountForm(forms.Form):
    name = forms.CharField(max_length=150, label="Your name")
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(
        label="Password, again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )


class AuditFilterForm(forms.Form):
    """The audit log's filters: what was done, and by whom (choices from the site's team and keys)."""

    action = forms.ChoiceField(label="What", required=False)
    actor = forms.ChoiceField(label="By", required=False)

    def __init__(self, *args, actors: list[tuple[str, str]], **kwargs):
        from creatorhub.models import AuditAction

        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Everything"), *AuditAction.choices]
        self.fields["actor"].choices = actors
