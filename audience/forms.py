"""Forms of the Contacts tab and of grants to many contacts: they check the shape of the input; the
rules live in audience.segments and the services."""

import json
import re
from dataclasses import dataclass
from dataclasses import field as dc_field

from django import forms
from django.db.models.functions import Lower

from audience import segments
from contacts.errors import BulkActionError, SegmentError
from contacts.models import Form, SubscriptionStatus, Tag, UnsubscribeReason
from offers.models import Offer

# -- The Contacts tab ---------------------------------------------------------------------------------
# The filter builder and the action forms of the Contacts tab (audience.views). The builder's inputs
# are named c<group>_<alternative>_<part>: the groups must all match (AND), the alternatives of a group
# are an OR group. It only reads and writes text; audience.segments.clean checks the filters it makes.

# How each field of audience.segments.FIELDS takes its value in the builder.
VALUE_KINDS = {
    "status": "status",
    "customer": "yes_no",
    "active_customer": "yes_no",
    "offer": "choice",
    "tag": "choice",
    "form": "choice",
    "added": "day",
    "last_activity": "day",
    "search": "text",
}
CONDITION_NAME = re.compile(r"^c(\d{1,3})_(\d{1,3})_field$")
CHOOSE = {"offer": "choose an offer", "tag": "choose a tag", "form": "choose a form"}


@dataclass
class Condition:
    """One filter of the builder as its inputs hold it (text), so that a half-made one shows again."""

    field: str
    op: str = ""
    value: str = ""
    reason: str = ""
    date: str = ""
    days: str = ""
    # Set for drawing: its place, the choices of its value, and whether it takes the focus.
    group: int = 0
    alternative: int = 0
    choices: list = dc_field(default_factory=list)
    autofocus: bool = False

    def __post_init__(self):
        if self.op not in segments.FIELDS[self.field][1]:
            self.op = next(iter(segments.FIELDS[self.field][1]))

    @property
    def label(self) -> str:
        return segments.FIELDS[self.field][0]

    @property
    def ops(self) -> list[tuple[str, str]]:
        return list(segments.FIELDS[self.field][1].items())

    @property
    def kind(self) -> str:
        return VALUE_KINDS[self.field]

    @property
    def prefix(self) -> str:
        return f"c{self.group}_{self.alternative}_"

    @property
    def number(self) -> str:
        return f"{self.group + 1}" if not self.alternative else f"{self.group + 1}, or {self.alternative + 1}"

    @classmethod
    def from_data(cls, data, prefix: str, field: str) -> "Condition":
        parts = ("op", "value", "reason", "date", "days")
        return cls(
            field=field,
            **{part: str(data.get(prefix + part, "")).replace("\x00", "").strip()[:200] for part in parts},
        )

    @classmethod
    def from_filter(cls, f: dict) -> "Condition":
        """The inputs of one cleaned filter."""
        value = f.get("value")
        condition = cls(field=f["field"], op=f["op"], reason=f.get("reason", ""))
        if isinstance(value, bool):
            condition.value = "yes" if value else "no"
        elif condition.kind == "day" and isinstance(value, int):
            condition.days = str(value)
        elif condition.kind == "day":
            condition.date = value or ""
        elif value is not None:
            condition.value = str(value)
        return condition

    def to_filter(self, where: str) -> dict:
        """The filter these inputs make; an input left empty is a SegmentError that says which."""

        def missing(what: str):
            raise SegmentError(f"Filter {where}: {what}.", field="filters")

        made = {"field": self.field, "op": self.op}
        if self.kind == "status":
            if not self.value:
                missing("choose a status")
            made["value"] = self.value
            if self.reason and self.value == SubscriptionStatus.UNSUBSCRIBED:
                made["reason"] = self.reason
        elif self.kind == "yes_no":
            if self.value not in ("yes", "no"):
                missing("choose yes or no")
            made["value"] = self.value == "yes"
        elif self.kind == "choice":
            if not self.value:
                missing(CHOOSE[self.field])
            made["value"] = int(self.value) if self.value.isascii() and self.value.isdigit() else self.value
        elif self.kind == "day" and self.op != "never":
            if self.days and self.date:
                missing("give a day or a number of days ago, not both")
            if self.days:
                if not (self.days.isascii() and self.days.isdigit()):
                    missing("the number of days ago is a whole number")
                made["value"] = int(self.days)
            elif self.date:
                made["value"] = self.date
            else:
                missing("give a day or a number of days ago")
        elif self.kind == "text":
            if not self.value:
                missing("type the text to search for")
            made["value"] = self.value
        return made


class FilterBuilder:
    """The filter builder's conditions in groups, read from its inputs or from cleaned filters, changed
    by its buttons (`builder=add`, `or:<group>`, `remove:<group>.<alternative>`), and made into filters."""

    def __init__(self, groups: list[list[Condition]]):
        self.groups = [group for group in groups if group]
        self.focus_add = False  # after a removal, the focus goes to "Add a filter"

    @classmethod
    def from_data(cls, data) -> "FilterBuilder":
        found: dict[int, dict[int, Condition]] = {}
        for key in data:
            matched = CONDITION_NAME.match(key)
            field = data.get(key)
            if matched and field in segments.FIELDS:
                group, alternative = int(matched[1]), int(matched[2])
                prefix = f"c{group}_{alternative}_"
                found.setdefault(group, {})[alternative] = Condition.from_data(data, prefix, field)
        groups = [[found[g][a] for a in sorted(found[g])][: segments.MAX_ITEMS] for g in sorted(found)]
        return cls(groups[: segments.MAX_ITEMS])

    @classmethod
    def from_filters(cls, filters: dict) -> "FilterBuilder":
        return cls(
            [
                [Condition.from_filter(f) for f in item["any"]]
                if "any" in item
                else [Condition.from_filter(item)]
                for item in filters["all"]
            ]
        )

    def edit(self, command: str, data) -> None:
        """Applies one button of the builder; an unknown or stale command changes nothing."""
        command = str(command)
        if command == "add":
            field = data.get("new_field")
            if field in segments.FIELDS and len(self.groups) < segments.MAX_ITEMS:
                self.groups.append([Condition(field=field, autofocus=True)])
        elif command.startswith("or:") and command[3:].isdigit():
            group = int(command[3:])
            field = data.get(f"or{group}_field")
            if (
                group < len(self.groups)
                and field in segments.FIELDS
                and len(self.groups[group]) < segments.MAX_ITEMS
            ):
                self.groups[group].append(Condition(field=field, autofocus=True))
        elif command.startswith("remove:"):
            group, _, alternative = command[7:].partition(".")
            if group.isdigit() and alternative.isdigit() and int(group) < len(self.groups):
                conditions = self.groups[int(group)]
                if int(alternative) < len(conditions):
                    del conditions[int(alternative)]
                    self.groups = [g for g in self.groups if g]
                    self.focus_add = True

    def filters(self) -> dict:
        """The filters of the conditions (not yet cleaned); an empty input is a SegmentError."""
        items = []
        for g, group in enumerate(self.groups, start=1):
            made = [
                condition.to_filter(str(g) if len(group) == 1 else f"{g}.{a}")
                for a, condition in enumerate(group, start=1)
            ]
            items.append(made[0] if len(made) == 1 else {"any": made})
        return {"all": items}

    def prepared(self, choices: dict[str, list]) -> list[list[Condition]]:
        """The groups, each condition numbered and given the choices of its value, for drawing."""
        for g, group in enumerate(self.groups):
            for a, condition in enumerate(group):
                condition.group, condition.alternative = g, a
                condition.choices = choices.get(condition.field, [])
        return self.groups

    @property
    def fields(self) -> set[str]:
        return {condition.field for group in self.groups for condition in group}


def field_options() -> list[tuple[str, str]]:
    """The fields a filter can be on, for "Add a filter"."""
    return [(key, label) for key, (label, _) in segments.FIELDS.items()]


def filter_choices(fields) -> dict[str, list[tuple[str, str]]]:
    """The values of the builder's selects for `fields`: the site's offers, tags and forms (one query
    for each of those present), and the statuses and reasons."""
    choices = {
        "status": [(value, label) for value, label in SubscriptionStatus.choices],
        "reason": [(value, label) for value, label in UnsubscribeReason.choices],
    }
    if "offer" in fields:
        offers = Offer.objects.order_by(Lower("title"), "pk")
        choices["offer"] = [
            (str(pk), f"{title} (archived)" if archived else title)
            for pk, title, archived in offers.values_list("pk", "title", "archived_at")
        ]
    if "tag" in fields:
        choices["tag"] = [
            (str(pk), name) for pk, name in Tag.objects.order_by(Lower("name")).values_list("pk", "name")
        ]
    if "form" in fields:
        forms_ = Form.objects.order_by(Lower("name"), "pk").values_list("pk", "name", "archived_at")
        choices["form"] = [
            (str(pk), f"{name} (archived)" if archived else name) for pk, name, archived in forms_
        ]
    return choices


MAX_FILTERS_TEXT = 20_000


def filters_from_text(text: str) -> dict | None:
    """The filters in the tab's URL (JSON) on top of its segment; None when there are none. Text that is
    not JSON is a SegmentError; audience.segments.clean checks the rest."""
    text = str(text).strip()
    if not text:
        return None
    if len(text) > MAX_FILTERS_TEXT:
        raise SegmentError("The filters in this link are too long.", field="filters")
    try:
        return json.loads(text)
    except ValueError:
        raise SegmentError("The filters in this link are not valid JSON.", field="filters") from None


def selected_ids(data, *, max_ids: int) -> list[int]:
    """The contacts chosen in the tab: the ticked rows, or the whole page when "select all on this page"
    is ticked and no row is. Ids that are not whole numbers are a BulkActionError."""
    values = data.getlist("contact_ids") or (data.getlist("page_ids") if data.get("select_page") else [])
    if not all(str(v).isascii() and str(v).isdigit() and len(str(v)) < 19 for v in values):
        raise BulkActionError("The chosen contacts are not valid: choose them again.", field="contact_ids")
    ids = sorted({int(v) for v in values})
    if len(ids) > max_ids:
        raise BulkActionError(f"Choose at most {max_ids:,} contacts, or all matching.", field="contact_ids")
    return ids


class SegmentForm(forms.Form):
    name = forms.CharField(label="Segment name", max_length=100)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "segment_%s")  # the tab has the "Add contact" form's name too
        super().__init__(*args, **kwargs)


class TagActionForm(forms.Form):
    tag = forms.CharField(
        label="Tag",
        max_length=100,
        widget=forms.TextInput(attrs={"list": "existing-tags", "autocomplete": "off"}),
        error_messages={"required": "Name the tag."},
    )


class SubscribeActionForm(forms.Form):
    """Subscribing a selection needs the same statement and attestation as subscribing one contact."""

    consent = forms.CharField(
        label="How did they give consent?",
        max_length=300,
        help_text="For example “These contacts asked to receive marketing email at the spring workshop”. "
        "It is kept in each contact's consent history.",
        error_messages={"required": "Say how these contacts gave their consent."},
    )
    attestation = forms.BooleanField(
        label="I confirm these contacts agreed to receive marketing emails",
        error_messages={"required": "Confirm that these contacts agreed to receive marketing emails."},
    )


class OfferActionForm(forms.Form):
    """The offer to revoke (any of the site's offers)."""

    offer = forms.ModelChoiceField(
        label="Offer",
        queryset=None,
        empty_label="Choose an offer",
        error_messages={"required": "Choose an offer."},
    )

    def __init__(self, *args, offers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = offers


class GrantActionForm(OfferActionForm):
    """The offer to grant (an active one) and whether to send the Offer Grant Confirmation."""

    send_grant_email = forms.BooleanField(
        label="Send offer grant email",
        required=False,
        initial=True,
        help_text="The Offer Grant Confirmation. New customers also get the Member Welcome, with a link "
        "to set their password.",
    )


class ConfirmForm(forms.Form):
    """Unsubscribe and delete ask nothing more than the confirmation."""
