# syntax=docker/dockerfile:1
#
# The CJIS Portal image: gunicorn serving cjis.wsgi by default; the same image runs the
# Celery worker and beat (see docker-compose.yml). Configuration comes from the
# environment only (README.md lists every variable).

# --- Front-end packages (USWDS, htmx), exactly as package-lock.json pins them -----------
FROM node:20-slim AS frontend
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# --- The application -----------------------------------------------------------------------
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=cjis.settings \
    DATA_DIR=/data \
    MEDIA_ROOT=/data/media

WORKDIR /app

RUN groupadd --system --gid 10001 cjis \
 && useradd --system --uid 10001 --gid cjis --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin cjis

# Python runtime dependencies first, so code changes do not reinstall them.
# `pip install --group` needs pip 25.1 or newer.
COPY pyproject.toml ./
COPY requirements/constraints.txt requirements/constraints.txt
RUN python -m pip install --upgrade "pip>=25.1" \
 && python -m pip install -c requirements/constraints.txt --group runtime

# Only the distributed files of the front-end packages (settings.STATICFILES_DIRS).
COPY --from=frontend /build/node_modules/@uswds/uswds/dist node_modules/@uswds/uswds/dist
COPY --from=frontend /build/node_modules/htmx.org/dist node_modules/htmx.org/dist

COPY . .

# Collect the static files at build time. With DEBUG off the settings refuse to load
# without a real SECRET_KEY, so this step gets a random one that exists only here.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    DEBUG=false ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput --verbosity 0 \
 && mkdir -p /data/media \
 && chown -R cjis:cjis /data

USER cjis

# gunicorn: worker processes, threads in each, and seconds before a stuck worker is
# restarted. Any other gunicorn option can be given in GUNICORN_CMD_ARGS. The access log
# leaves out query strings and referrers: search terms (names, dates of birth) are
# criminal-justice information and belong in the audit log only. Sixteen threads: a
# thread waiting for the arrest notices ahead of it (ciss/exchanges/batching.py) or for
# the database costs no CPU, and the more notices wait together, the cheaper each is;
# each thread keeps one database connection (3 x 16 stays well under PostgreSQL's 100).
# A worker is replaced after GUNICORN_MAX_REQUESTS requests (give or take a tenth, so that
# workers are not replaced together), a guard against slow leaks. Each replacement costs a
# second or two of CPU to import the project and then its threads' database connections,
# prepared statements and caches built afresh: at 2,000 a worker under 150 requests a
# second was replaced every half minute, and the stack answered a fifth fewer arrest
# notices (bench/README.md, exchanges).
ENV GUNICORN_WORKERS=3 \
    GUNICORN_THREADS=16 \
    GUNICORN_TIMEOUT=60 \
    GUNICORN_GRACEFUL_TIMEOUT=30 \
    GUNICORN_KEEPALIVE=5 \
    GUNICORN_MAX_REQUESTS=20000 \
    GUNICORN_ACCESS_LOG_FORMAT='%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'

EXPOSE 8000

CMD ["sh", "-c", "exec gunicorn cjis.wsgi --bind 0.0.0.0:8000 --workers \"$GUNICORN_WORKERS\" --threads \"$GUNICORN_THREADS\" --timeout \"$GUNICORN_TIMEOUT\" --graceful-timeout \"$GUNICORN_GRACEFUL_TIMEOUT\" --keep-alive \"$GUNICORN_KEEPALIVE\" --max-requests \"$GUNICORN_MAX_REQUESTS\" --max-requests-jitter \"$((GUNICORN_MAX_REQUESTS / 10))\" --worker-tmp-dir /dev/shm --no-control-socket --access-logfile - --access-logformat \"$GUNICORN_ACCESS_LOG_FORMAT\" --error-logfile -"]
