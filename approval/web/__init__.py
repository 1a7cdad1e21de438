"""The web console (网上办事大厅后台): server-rendered Chinese pages for the window, the
departments, the supervisor and the auditor, on the same engine, identities and role rules
as the HTTP API."""
