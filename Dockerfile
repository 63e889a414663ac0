# Branchline server image: the API, the sync endpoints and the built web app.
FROM node:20-bookworm-slim AS pwa
WORKDIR /src/pwa
COPY pwa/package.json pwa/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY pwa/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
# WeasyPrint renders PDFs with Pango; fonts for readable exports.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
      fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api/ api/
COPY sync/ sync/
COPY seeds/ seeds/
COPY design_docs/ design_docs/
RUN pip install --no-cache-dir .
COPY --from=pwa /src/pwa/dist /app/pwa/dist
ENV BRANCHLINE_MODE=production BRANCHLINE_DATA_DIR=/data BRANCHLINE_PWA_DIST=/app/pwa/dist
VOLUME /data
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["branchline", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-demo"]
