"""Rodan's numeric status codes (rodan-compat.md §3)."""

from django.db import models


class RunJobStatus(models.IntegerChoices):
    SCHEDULED = 0, "Scheduled"
    PROCESSING = 1, "Processing"
    WAITING_FOR_INPUT = 2, "Waiting for input"
    FINISHED = 4, "Finished"
    EXPIRED = 8, "Expired"
    CANCELLED = 9, "Cancelled"
    FAILED = -1, "Failed"


class RunStatus(models.IntegerChoices):
    SCHEDULED = 0, "Scheduled"
    PROCESSING = 1, "Processing"
    FINISHED = 4, "Finished"
    CANCELLED = 9, "Cancelled"
    RETRYING = 11, "Retrying"
    REQUEST_PROCESSING = 21, "Request processing"
    REQUEST_CANCELLING = 29, "Request cancelling"
    REQUEST_RETRYING = 31, "Request retrying"
    FAILED = -1, "Failed"
