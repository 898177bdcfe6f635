"""The creator's usage against the plan: `GET /api/v1/sites/<site>/usage/` (owners: usage:read)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from creatorhub.api.base import SiteAPIView
from creatorhub.roles import Scope
from usage.selectors.plan import current_usage, usage_history
from usage.serializers import UsageSerializer


class UsageView(SiteAPIView):
    scope_map = {"GET": Scope.USAGE_READ}

    @extend_schema(responses={200: UsageSerializer}, operation_id="site_usage")
    def get(self, request, site):
        usage = current_usage(self.site)
        usage.pop("percent")
        body = {**usage, "plan": self.site.plan, "history": usage_history(self.site, usage["day"])}
        return Response(UsageSerializer(body).data)
