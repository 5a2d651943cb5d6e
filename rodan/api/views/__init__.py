"""Thin DRF views over the serializers, permissions and the engine."""
