"""The usage API's output: the creator's usage against the plan, with its daily history."""

from rest_framework import serializers

from creatorhub.serializers import PlanSerializer


class HistoryDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    active_customers = serializers.IntegerField()
    active_customer_limit = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    day = serializers.DateField()
    active_customers = serializers.IntegerField()
    active_customer_limit = serializers.IntegerField()
    share = serializers.FloatField(help_text="Active customers over the limit: 0.84 is 84%.")
    warning = serializers.BooleanField(help_text="From 80% of the limit, up to the limit.")
    over_limit = serializers.BooleanField(help_text="Above the limit. Nothing is blocked.")
    plan = PlanSerializer()
    history = HistoryDaySerializer(
        many=True, help_text="The daily figures of the last 90 days, oldest first."
    )
