# syntax=docker/dockerfile:1
# The CreatorHub image: the dashboard (gunicorn), the Celery worker and Celery beat all run from it.
# docker-compose.yml shows how the three are started; see the README for production settings.
FROM python:3.11-slim

# PYTHONPATH: the code in /app is the copy that runs (settings find templates/, static/ and
# staticfiles/ next to it), so it comes before the copy that `pip install .` puts in site-packages.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# An unprivileged user owns only its home (gunicorn 25.1+ keeps its control socket in ~/.gunicorn) and
# /app/var (Celery beat's schedule; var/media, where compose mounts the media volume); the code and the
# collected static files stay root-owned and read-only.
RUN groupadd --system --gid 10001 creatorhub \
    && useradd --system --uid 10001 --gid creatorhub --create-home --home-dir /home/creatorhub \
       --shell /usr/sbin/nologin creatorhub

COPY . .

# The runtime dependencies only (no dev extras). The cache mount keeps rebuilds after a code change quick.
RUN --mount=type=cache,target=/root/.cache/pip pip install .

# Static files are collected at build time. The dummy key and DEBUG=false exist only for this step:
# they are not baked into the image's environment.
RUN SECRET_KEY=collectstatic-build-only-not-a-secret DEBUG=false \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media \
    && chown -R creatorhub:creatorhub /app/var

USER creatorhub:creatorhub

# Production by default: run without compose, the image refuses to start until SECRET_KEY is given
# (with DEBUG on it would show debug pages and sign links with the development key).
ENV DEBUG=false

EXPOSE 8000

CMD ["gunicorn", "creatorhub.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
