# The engine's image: worker.py, the HTTP API and console (uvicorn), the stub department
# service, the store's migrations (alembic) and the command lines (starter.py, auditor.py,
# approval.cli.users). docker-compose.yml runs each from it with its own command.
#
#   docker build -t approval-engine .
#
# Two stages: the builder installs the locked dependencies without the dev group (uv sync
# --frozen --no-dev: exactly what uv.lock names, nothing resolved anew); the runtime stage gets
# that virtual environment and the project's own files, and runs as an unprivileged user.
# Neither pytest, ruff, mypy nor playwright is in the image (tests/deploy/ checks this). The
# runtime stage adds Debian's packages for the printed notices (approval.printing): WeasyPrint's
# system libraries and the CJK fonts the PDFs are set in.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.9
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install "uv==${UV_VERSION}"
WORKDIR /app
# The lock first: the dependency layer is rebuilt only when pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev

FROM ${PYTHON_IMAGE} AS runtime
# WeasyPrint's libraries (Pango, with HarfBuzz's font subsetter) and Noto Sans/Serif CJK SC,
# without their recommendations; the package lists are not kept in the image.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
# The user the engine runs as, and the data directory it owns (a volume in the compose file).
RUN groupadd --system --gid 10001 approval \
    && useradd --system --uid 10001 --gid approval --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin approval \
    && install -d -o approval -g approval -m 0750 /var/lib/approval
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
# pyproject.toml also configures alembic ([tool.alembic]) for the migration service.
COPY pyproject.toml uv.lock ./
COPY approval ./approval
COPY activities ./activities
COPY workflows ./workflows
COPY data ./data
COPY worker.py starter.py auditor.py ./
# The code stays root's and read-only to the engine; its bytecode is compiled here once.
RUN /app/.venv/bin/python -m compileall -q approval activities workflows
ENV PATH=/app/.venv/bin:$PATH \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APPROVAL_DATA_DIR=/var/lib/approval
VOLUME ["/var/lib/approval"]
USER approval
EXPOSE 8000 8100 9464
CMD ["python", "worker.py"]
