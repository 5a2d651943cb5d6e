# syntax=docker/dockerfile:1
# The Rodan worker image: Celery workers that run the jobs (see README.md).
#
# Base images are build arguments, defaulting to the official images, so the
# same file builds with Docker and, where no registry is reachable, with
# locally made bases (scripts/build-base-images, scripts/build-image).
ARG NODE_IMAGE=node:20-alpine
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
# The image that compiles Gamera: Python headers and a compiler come on top.
ARG PYTHON_BUILD_IMAGE=python:3.11-slim-bookworm

# --- browser front-ends: the web application's pages, Pixel and Neon ---------
# Only npm and POSIX sh: the same steps run on the official Alpine image and on
# a locally made Debian Node base.
FROM ${NODE_IMAGE} AS frontends
WORKDIR /src
# The web application's pages (the app at / and the deep-zoom viewer): Vite writes them
# into rodan/static/frontend/, which the final stage copies. The app builds the
# workflow library (workflows/) into itself.
COPY frontend/package.json frontend/package-lock.json frontend/
RUN npm --prefix frontend ci --no-audit --no-fund
COPY workflows/ workflows/
COPY frontend/ frontend/
RUN npm --prefix frontend run build
COPY jobs/ jobs/
# Each interactive family keeps its front-end in jobs/<family>/frontend with a
# package-lock.json; `npm ci` installs exactly that, `npm run build` writes dist/
# (Pixel's page imports the viewer from frontend/src/viewer, copied above).
RUN set -eu; \
    for family in pixel neon; do \
        mkdir -p "/out/$family"; \
        if [ -f "jobs/$family/frontend/package.json" ]; then \
            npm --prefix "jobs/$family/frontend" ci --no-audit --no-fund; \
            npm --prefix "jobs/$family/frontend" run build; \
            cp -r "jobs/$family/frontend/dist/." "/out/$family/"; \
        fi; \
    done

# --- Gamera and the MusicStaves toolkit, compiled into wheels ---------------
# PEP 517 builds fetch setuptools and wheel into an isolated environment, so
# the legacy setup.py of Gamera builds with any base's pip. The compiled Gamera
# wheel is kept in a build cache: it is rebuilt only when its pin changes.
FROM ${PYTHON_BUILD_IMAGE} AS wheels
WORKDIR /src
COPY pyproject.toml ./
COPY gamera4-rodan/build-wheels gamera4-rodan/
RUN --mount=type=cache,target=/root/.cache \
    set -eu; \
    python3 -m venv /opt/build && \
    PIP_USE_PEP517=1 RODAN_WHEEL_DIR=/root/.cache/rodan/wheels gamera4-rodan/build-wheels /opt/build/bin/python && \
    mkdir -p /wheels && cp /root/.cache/rodan/wheels/gamera-*.whl /wheels/
COPY gamera4-rodan/musicstaves/ gamera4-rodan/musicstaves/
RUN --mount=type=cache,target=/root/.cache \
    /opt/build/bin/pip wheel --quiet --no-deps --wheel-dir /wheels ./gamera4-rodan/musicstaves

# --- the worker ---------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RODAN_DATA_DIR=/data \
    CELERY_JOB_QUEUE=celery
# Runtime libraries only: Gamera's image plugins link libtiff and libpng.
RUN set -eu; \
    apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libtiff6 libpng16-16 && \
    rm -rf /var/lib/apt/lists/* && \
    python3 -m venv /opt/venv && \
    useradd --create-home --uid 1000 rodan && \
    mkdir -p /data && chown rodan:rodan /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY rodan/ rodan/
COPY jobs/ jobs/
COPY workflows/ workflows/
COPY --from=frontends /src/rodan/static/frontend/ rodan/static/frontend/
COPY --from=frontends /out/pixel/ jobs/pixel/static/build/
COPY --from=frontends /out/neon/ jobs/neon/static/build/
# Copied, not bind-mounted from the stage: buildah's layer cache could mount a
# stale view of a fully cached stage. The copy costs the Gamera wheel's 43 MB.
COPY --from=wheels /wheels/ /tmp/wheels/
RUN pip install --quiet --no-cache-dir --find-links /tmp/wheels ".[gamera,monitoring]" /tmp/wheels/musicstaves-*.whl && \
    rm -rf /tmp/wheels
COPY scripts/start-celery scripts/wait-for-app scripts/start /usr/local/bin/
# Resources live in /data: mount a volume there (docker-compose.yml does).
USER 1000:1000
HEALTHCHECK --interval=60s --timeout=20s --start-period=60s --retries=3 \
    CMD ["sh", "-c", "rodan worker-ping --queue \"$CELERY_JOB_QUEUE\" --timeout 10"]
ENTRYPOINT ["/usr/local/bin/start-celery"]
