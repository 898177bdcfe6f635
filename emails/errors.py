from creatorhub.errors import DomainError


class TemplateError(DomainError):
    """A site's email template that cannot be saved: `field` names the part (subject, body_text,
    body_html) and the message says what is wrong and where."""
