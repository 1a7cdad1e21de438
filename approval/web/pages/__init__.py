"""The console's pages, one module per page: login, intake (收件), the case, the department's
inbox and the supervisor's board. Each module has its own router; approval.web.routes puts
them under /web, every post guarded (approval.web.access)."""
