from creatorhub.errors import DomainError


class OfferError(DomainError):
    pass


class GrantError(DomainError):
    pass


class PurchaseError(DomainError):
    pass


class MemberError(DomainError):
    pass
