# Regie for production: `regie serve` (Slack, Teams, scheduler, outbox) on PostgreSQL.
# compose.yaml next to this file runs it with a database; docs/operations.md explains.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REGIE_HOST=0.0.0.0 REGIE_PORT=3000
WORKDIR /app

# The pinned versions the test suite passed with (constraints.txt), PostgreSQL and AI extras.
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY storage ./storage
COPY campaigns ./campaigns
RUN pip install --no-cache-dir -c constraints.txt '.[postgres,ai]' \
    && useradd --system --home /app regie
USER regie

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"
# `regie init` brings the schema to the current version (a no-op when it is there already).
CMD ["sh", "-c", "regie init && exec regie serve"]
