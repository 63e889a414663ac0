# Branchline server image: the API, the sync endpoints and the built web app.
FROM node:20-bookworm-slim AS pwa
WORKDIR /src/pwa
COPY pwa/package.json pwa/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY pwa/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
# WeasyPrint renders PDFs with Pango; fonts for readable exports; xmlsec1 checks SAML signatures.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
      fonts-dejavu-core fonts-noto-core fonts-noto-cjk xmlsec1 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api/ api/
COPY sync/ sync/
COPY seeds/ seeds/
COPY design_docs/ design_docs/
RUN pip install --no-cache-dir .
COPY --from=pwa /src/pwa/dist /app/pwa/dist
# Run the code from /app (ahead of the installed copy) so it finds design_docs/ beside it:
# the CouchDB backend installs its design documents from design_docs/couchdb/.
ENV PYTHONPATH=/app BRANCHLINE_MODE=production BRANCHLINE_DATA_DIR=/data \
    BRANCHLINE_PWA_DIST=/app/pwa/dist
RUN useradd --system --uid 10001 --home /data branchline && mkdir -p /data && chown branchline /data
USER branchline
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["branchline", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-demo"]
