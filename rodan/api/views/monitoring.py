"""``monitoring/``: queues, workers, RunJobs in flight and the reaper's last passes, for staff (rodan.monitoring)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from rodan import monitoring
from rodan.api.permissions import IsStaff


class QueueSerializer(serializers.Serializer):
    name = serializers.CharField()
    depth = serializers.JSONField(help_text='Messages waiting, or "unknown" when the broker cannot say.')


class MonitoredRunJobSerializer(serializers.Serializer):
    uuid = serializers.CharField()
    url = serializers.URLField()
    workflow_run = serializers.URLField()
    page = serializers.CharField(help_text="The run's page in the web application.")
    job_name = serializers.CharField()
    phase = serializers.ChoiceField(["scheduled", "queued", "running", "waiting_for_input"])
    worker = serializers.CharField(help_text="The worker process (host:pid) running it; empty if none.")
    created = serializers.DateTimeField()
    dispatched_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True)
    attempts = serializers.IntegerField()


class WorkerSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="host:pid of the worker process.")
    host = serializers.CharField()
    last_heartbeat = serializers.DateTimeField(allow_null=True)
    responding = serializers.BooleanField(help_text="False once the reaper would judge the worker gone.")
    run_jobs = MonitoredRunJobSerializer(many=True)


class RunJobCountsSerializer(serializers.Serializer):
    scheduled = serializers.IntegerField()
    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    waiting_for_input = serializers.IntegerField()


class RunJobsInFlightSerializer(serializers.Serializer):
    counts = RunJobCountsSerializer()
    oldest = MonitoredRunJobSerializer(many=True)


class ReaperPassSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actions = serializers.DictField(child=serializers.IntegerField(), help_text="What the pass did, by kind.")


class MonitoringSerializer(serializers.Serializer):
    broker = serializers.ChoiceField(["rabbitmq", "embedded"])
    queues = QueueSerializer(many=True)
    workers = WorkerSerializer(many=True)
    run_jobs = RunJobsInFlightSerializer()
    reaper = ReaperPassSerializer(many=True)


class Monitoring(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=MonitoringSerializer)
    def get(self, request, format=None):
        return Response(monitoring.overview(request))
