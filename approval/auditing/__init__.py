"""The auditor's reading of the record (审计/监察): the timeline in Chinese, export and replay of
Temporal histories, chain verification anchored in them, the cross-check with Temporal and the
rebuilding of the read model. No command line here: ``auditor.py``'s commands, in the command
line's package, only print what these modules find."""
