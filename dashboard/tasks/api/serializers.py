from rest_framework import serializers

from dashboard.tasks.models import BackgroundTask


class BackgroundTaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = BackgroundTask
        fields = ["id", "name", "target", "status", "progress", "message", "result", "created", "started", "finished"]
