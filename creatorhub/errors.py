"""Domain errors: raised by services with a message for people; the API turns them into 400s with
field errors and the pages into form errors."""


class DomainError(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class TeamError(DomainError):
    pass


class ApiKeyError(DomainError):
    pass
