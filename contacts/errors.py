from creatorhub.errors import DomainError


class ContactError(DomainError):
    pass


class ConsentError(DomainError):
    """A change of subscription status the SPEC forbids (e.g. resubscribing someone who opted out)."""


class FormError(DomainError):
    pass
