"""Background tasks in the API: operations that outlast a request answer 202 with a task, polled here."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from dashboard.core.api.base import BerthApiView, with_errors
from dashboard.tasks.api.serializers import BackgroundTaskSerializer
from dashboard.tasks.services import task_get, task_list


class TaskListApi(BerthApiView):
    @extend_schema(responses=with_errors({200: BackgroundTaskSerializer(many=True)}))
    def get(self, request):
        return Response(BackgroundTaskSerializer(task_list(actor=request.user), many=True).data)


class TaskDetailApi(BerthApiView):
    @extend_schema(responses=with_errors({200: BackgroundTaskSerializer}))
    def get(self, request, task_id):
        return Response(BackgroundTaskSerializer(task_get(actor=request.user, task_id=task_id)).data)
