"""Errors that services raise; views and the API map them to 403 / 409 / 400 with the message."""

from django.core.exceptions import PermissionDenied, ValidationError


class PlanPermissionDenied(PermissionDenied):
    """The actor may not do this (HTTP 403)."""


class PlanConflict(Exception):
    """The plan changed under the actor's feet, or is not in a state that allows this (HTTP 409)."""

    def __init__(self, message: str = "This plan changed since you loaded it. Reload and retry."):
        super().__init__(message)
        self.message = message


__all__ = ["PlanConflict", "PlanPermissionDenied", "ValidationError"]
