# The bot in a slim, non-root image. Build: docker build -t vidu-bot .   Run: see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --user-group vidu

WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
COPY bot ./bot
COPY cogs ./cogs
# No system package: `pip install .` brings ffmpeg (imageio-ffmpeg's wheel: smaller copies of videos over a
# server's upload limit, Extend's last frame) and the fonts of Chinese text in pictures (weblate-fonts), the
# same way as on a developer's machine and in CI, at the versions CI tested (requirements.lock).
RUN pip install -c requirements.lock . \
    && mkdir -p /app/data \
    && chown vidu:vidu /app/data

USER vidu

# Logs as JSON lines for a log shipper; /metrics and /healthz on 9100 (the HEALTHCHECK asks /healthz).
ENV DATA_DIR=/app/data \
    LOG_FORMAT=json \
    METRICS_PORT=9100
EXPOSE 9100
VOLUME ["/app/data"]

# The bot stops gracefully on SIGTERM (docker stop): running jobs stay in the database and resume.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "health"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
