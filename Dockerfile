# One image for the web server, the gateway worker, the scheduler and the simulator.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

# .dockerignore keeps secrets (.env), local state (var/, *.sqlite3), .git, .venv
# and caches out of this copy.
COPY . .
# var/ibsim exists in the image, owned by app, so that the named volume compose
# mounts there starts out writable by the simulator (docker-compose.yml).
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input --verbosity 0 \
    && useradd --create-home --uid 10001 app \
    && mkdir -p /app/var/ibsim && chown -R app /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "ibkr_project.wsgi", "-b", "0.0.0.0:8000", "-k", "gthread", "-w", "2", "--threads", "8", "--access-logfile", "-"]
