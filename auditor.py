"""The auditor's command line: export a case's history, replay histories against the code,
read the timeline, check the statutory rules and the record's consistency with itself, verify
the audit chains anchored in the Temporal histories, cross-check the audit log with Temporal,
rebuild the read model.

    uv run python auditor.py --help

Exit status: 0 all well, 1 a failed check, verification or comparison, 2 bad input (an unknown
or malformed case number), 3 Temporal cannot be reached (nothing could be anchored; ``verify
--store-only`` checks the chains alone).
"""

from approval.cli.auditor import main

if __name__ == "__main__":
    main()
