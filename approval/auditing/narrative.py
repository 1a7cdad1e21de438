"""Transitional name of approval.auditing.timeline, for the readers that still import the
timeline from here (the console, the audit API)."""

from approval.auditing.timeline import TimelineEntry, timeline, who

__all__ = ["TimelineEntry", "timeline", "who"]
