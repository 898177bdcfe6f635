from creatorhub.errors import DomainError


class ContactError(DomainError):
    pass


class ConsentError(DomainError):
    """A change of subscription status the SPEC forbids (e.g. resubscribing someone who opted out)."""


class FormError(DomainError):
    pass


class SegmentError(DomainError):
    """Filters that cannot be compiled: an unknown field or operator, a value of the wrong kind, another
    site's tag, offer or form."""


class BulkActionError(DomainError):
    pass


class ExportError(DomainError):
    pass
