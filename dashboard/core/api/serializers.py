from rest_framework import serializers

from dashboard.core.errors import InvalidInput


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
