from drf_spectacular.generators import SchemaGenerator

from creatorhub.tenancy import platform_wide


class PlatformSchemaGenerator(SchemaGenerator):
    """Audited platform-wide read: the generator reads every viewset's queryset to type path parameters,
    outside any site (the schema view, `manage.py spectacular` and drf-spectacular's deploy check)."""

    def get_schema(self, *args, **kwargs):
        with platform_wide("OpenAPI schema generation"):
            return super().get_schema(*args, **kwargs)
