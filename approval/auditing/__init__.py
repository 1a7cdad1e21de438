"""The auditor's tools (审计/监察): export, replay, timeline, compliance check, chain
verification, cross-check with Temporal, and rebuilding the read model."""
