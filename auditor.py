"""The auditor's command line: export a case's history, replay histories against the code,
read the timeline, check the statutory rules, verify the audit chain, cross-check it with
Temporal, rebuild the read model.

    uv run python auditor.py --help
"""

from approval.auditing.cli import main

if __name__ == "__main__":
    main()
