# The API and worker image. Build: docker build -t voucher-service .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 10001 voucher
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY voucher_service ./voucher_service
COPY ledger ./ledger
COPY providers ./providers
RUN pip install . && mkdir -p /var/lib/voucher && chown voucher /var/lib/voucher

USER voucher
ENV VOUCHER_DATA_DIR=/var/lib/voucher VOUCHER_ENVIRONMENT=production
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["voucher-service", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]
