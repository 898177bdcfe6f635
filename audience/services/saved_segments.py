"""Writes of saved segments: named filters the Contacts tab shows as tabs. Saving one changes no contact."""

from django.db import transaction

from audience import segments
from contacts.errors import ContactError
from contacts.models import DEFAULT_SEGMENTS, Segment
from creatorhub.models import Site
from creatorhub.tenancy import ensure_same_site


def _clean_segment_name(name: str, *, exclude_pk=None) -> str:
    name = " ".join(str(name).split())
    if not name or len(name) > 100:
        raise ContactError("Name the segment (at most 100 characters).", field="name")
    if name.lower() in {d.name.lower() for d in DEFAULT_SEGMENTS.values()}:
        raise ContactError(f"“{name}” is a default segment: choose another name.", field="name")
    if Segment.objects.filter(name__lower=name.lower()).exclude(pk=exclude_pk).exists():
        raise ContactError(f"A segment is already named “{name}”.", field="name")
    return name


@transaction.atomic
def create_segment(site: Site, *, name: str, filters: dict, acting_user=None) -> Segment:
    """Saves filters as a custom segment; they are checked (audience.segments.clean) and kept cleaned."""
    return Segment.objects.create(
        site=site,
        name=_clean_segment_name(name),
        filters=segments.clean(site, filters),
        created_by=acting_user,
    )


@transaction.atomic
def update_segment(site: Site, *, segment: Segment, name: str | None = None, filters=None) -> Segment:
    ensure_same_site(site, segment, error=ContactError)
    if name is not None:
        segment.name = _clean_segment_name(name, exclude_pk=segment.pk)
    if filters is not None:
        segment.filters = segments.clean(site, filters)
    segment.save()
    return segment


@transaction.atomic
def delete_segment(site: Site, *, segment: Segment) -> None:
    """Deletes the saved filters; no contact changes."""
    ensure_same_site(site, segment, error=ContactError)
    segment.delete()
