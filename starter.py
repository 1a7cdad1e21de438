"""The clerk's and the department's command line: submit, check, notify, accept, supplement,
decide, extend, withdraw, pay, deliver, status — plus `up` (everything on one machine) and
`simulate` (weeks of demo cases on the time-skipping server).

    uv run python starter.py --help
"""

from approval.cli.app import main

if __name__ == "__main__":
    main()
