"""End-to-end tests: the real programs (starter.py, auditor.py, worker.py, uvicorn's factory)
started as processes, to prove their entry points; every wait for one is bounded far beyond what
a busy machine needs (tests.processes.PROCESS_TIMEOUT_S). Marked ``slow``; everything else runs
the programs' commands in the test's process (tests.processes.invoke_cli, invoke_auditor,
invoke_worker)."""
