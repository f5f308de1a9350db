# One image for the web server, the gateway worker, the scheduler and the simulator.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input --verbosity 0 \
    && useradd --create-home --uid 10001 app \
    && mkdir -p /app/var && chown -R app /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "ibkr_project.wsgi", "-b", "0.0.0.0:8000", "-k", "gthread", "-w", "2", "--threads", "8", "--access-logfile", "-"]
