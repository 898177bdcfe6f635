from creatorhub.errors import DomainError


class ContactImportError(DomainError):
    """An import that cannot go ahead: a file that is not CSV text, too big, without an email column, a
    mapping that names no column… (A row that cannot be imported is an ImportRowError instead.)"""
