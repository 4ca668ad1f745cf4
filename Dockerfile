# syntax=docker/dockerfile:1
# The Discord bot: CPU PyTorch, the project, a non-root user, the database in /data.
# No secrets in the image: DISCORD_TOKEN comes from the environment at run time
# (docker-compose.yml reads it from .env, which .dockerignore keeps out of the build context).
#
#   docker compose up -d --build        (see README: "Deploying with Docker Compose")

# The base is pinned by its full version tag (Python 3.11.7, Debian 12 "bookworm"; the same
# Python as the dev machines). It is not pinned by digest: these machines cannot reach the image
# registry to read it. Where it can, pin both: `docker buildx imagetools inspect
# python:3.11.7-slim-bookworm` prints the digest to append as `@sha256:...`.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# A CJK font, so that charts (/stats, the interview report) carry Chinese labels for Chinese
# readers (without one they fall back to English labels).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# CPU PyTorch first, pinned, from PyTorch's CPU index: torch from PyPI is the CUDA build
# (several GB). The index is a build argument, as TORCH_INDEX is in the Makefile (a mirror:
# `docker compose build --build-arg TORCH_INDEX=...`). `make` installs this same version, from
# a local wheel when the machine has one; the project's `torch>=2.4,<=2.14.1` is then satisfied.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install torch==2.13.0 --index-url ${TORCH_INDEX}

# The other dependencies, read from pyproject.toml: this layer is rebuilt only when they change.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (code, migrations, question bank).
COPY bot ./bot
COPY content ./content
RUN pip install --no-deps . && rm -rf build *.egg-info

# A non-root user owns only /data (the SQLite folder, a named volume in compose) and its home.
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --create-home --home-dir /home/bot \
        --shell /usr/sbin/nologin bot \
    && mkdir -p /data \
    && chown bot:bot /data

# BOT_ON_CONFIG_ERROR=wait: `run` with a configuration error (no DISCORD_TOKEN, a bad setting)
# prints it once and waits to be stopped, instead of exiting into a restart loop under
# `restart: unless-stopped` (the container shows as unhealthy; see README).
ENV BOT_DB=/data/bot.sqlite3 \
    BOT_CONTENT=/app/content \
    BOT_ON_CONFIG_ERROR=wait \
    MPLCONFIGDIR=/home/bot/.cache/matplotlib
VOLUME ["/data"]

USER bot

# Matplotlib's font list (the CJK font included), built once here rather than at the first chart.
RUN python -c "import matplotlib.font_manager"

# Healthy: the database passes `PRAGMA quick_check` at the latest schema, and the bot recorded a
# gateway heartbeat within BOT_HEALTH_MAX_AGE (120 s). Start-up (torch warm-up, connecting,
# READY) takes well under the start period.
HEALTHCHECK --interval=30s --timeout=15s --start-period=120s --retries=3 \
    CMD ["python", "-m", "bot", "health"]

# SIGTERM (docker stop): the bot finishes the interactions in flight and closes the database.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot", "run"]
