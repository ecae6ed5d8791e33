from rest_framework import serializers

from dashboard.errors import InvalidInput


def validated_by(rule, value, **kwargs):
    """Run one of Berth's shared validation rules (the same ones the forms use) and report its
    message as a DRF field error."""
    try:
        return rule(value, **kwargs)
    except InvalidInput as error:
        raise serializers.ValidationError(error.message, code=error.code) from None


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable error code")
    detail = serializers.CharField(help_text="What went wrong and what to do, for a person")
    component = serializers.CharField(required=False)


class HealthCheckSerializer(serializers.Serializer):
    name = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()


class ClusterOverviewSerializer(serializers.Serializer):
    cluster = serializers.CharField()
    health_status = serializers.CharField()
    health_text = serializers.CharField(help_text="Exactly what `ceph health` prints")
    checks = HealthCheckSerializer(many=True)
    bytes_used = serializers.IntegerField()
    bytes_total = serializers.IntegerField()
    percent_used = serializers.FloatField()
    pool_count = serializers.IntegerField()
    image_count = serializers.IntegerField()
    osds_total = serializers.IntegerField()
    osds_up = serializers.IntegerField()
    osds_in = serializers.IntegerField()
