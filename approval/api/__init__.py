"""The HTTP API (FastAPI): the same actions as the command line, by authenticated people in
their roles (R22). ``create_app`` builds it (and mounts the console, approval.web, under
/web); ``approval.cli.users`` manages users and tokens."""
