"""Notification entry point for the services that change plan state.

notify_plan_event() is called inside the caller's transaction; it records what must be sent and
dispatch happens on commit. (Delivery is built in the notifications issue.)
"""


def notify_plan_event(*, event: str, plan, actor, revision=None, review=None,
                      comment: str = "", recipients=None) -> None:
    """Record notifications for `event` on `plan`; delivered after the transaction commits."""
