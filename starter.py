"""The command line of the window, the departments and the supervisor: submit, notice,
supplement, accept, decide, extend, withdraw, pay, deliver, status, notices … — each a request
to the HTTP API (APPROVAL_API_URL) as the user of a token (--token, APPROVAL_TOKEN, or in
development --as USER) — plus `catalogue`, `up` (everything on one machine) and `simulate`
(weeks of demo cases on the time-skipping server), which run here.

    .venv/bin/python starter.py --help      # APPROVAL_ENVIRONMENT=development for --as USER
"""

from approval.cli.app import main

if __name__ == "__main__":
    main()
