# sluice in a container: `docker build -t sluice .` then, for example,
#   docker run -d --name sluice -p 8080:8080 -v sluice-data:/data -e SLUICE_API_TOKEN=$(openssl rand -hex 32) sluice
# Everything sluice writes lives under the /data volume: staging/ (drop files here, or upload them), warehouse/,
# manifests/, errors/ and state/. The HTTP API and dashboard listen on 0.0.0.0:8080, which sluice refuses to do
# without SLUICE_API_TOKEN (or --insecure-no-auth): a container's port is reachable from the network.
#
# BASE_IMAGE is any Debian-based image with Node.js 24 (or 22) and npm at /usr/local/bin, as the official one has.
ARG BASE_IMAGE=node:24-bookworm-slim

# ---- build: every dependency, the TypeScript and the dashboard build; then only production dependencies stay.
FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# A registry behind a TLS-inspecting proxy needs its CA: pass it as a build secret (never a build argument, never
# a file of the image): docker build --secret id=npm_ca,src="$(npm config get cafile)" .
RUN --mount=type=secret,id=npm_ca,required=false \
    if [ -s /run/secrets/npm_ca ]; then \
      export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca npm_config_cafile=/run/secrets/npm_ca; \
    fi; \
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn  # no dependency needs a script: see .npmrc
COPY tsconfig.json tsconfig.build.json ./
COPY bin bin
COPY src src
COPY web web
RUN npm run build && npm prune --omit=dev --no-audit --no-fund && find dist -name '*.map' -delete

# ---- runtime: Node, the build and the production dependencies; runs as an unprivileged user.
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="sluice" \
      org.opencontainers.image.description="Exactly-once file ingestion into a date-partitioned warehouse" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production \
    SLUICE_INPUT=/data/staging \
    SLUICE_WAREHOUSE=/data/warehouse \
    SLUICE_MANIFESTS=/data/manifests \
    SLUICE_ERRORS=/data/errors \
    SLUICE_STATE_PATH=/data/state/sluice.db \
    SLUICE_LISTEN=0.0.0.0:8080 \
    SLUICE_ALLOWED_HOSTS=localhost,127.0.0.1,[::1]
RUN groupadd --system --gid 10001 sluice \
 && useradd --system --uid 10001 --gid sluice --home-dir /data --no-create-home --shell /usr/sbin/nologin sluice \
 && mkdir -p /data/staging \
 && chown -R sluice:sluice /data
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
COPY LICENSE .env.example ./
RUN ln -s /app/bin/sluice.js /usr/local/bin/sluice
USER sluice
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# /healthz on whatever port SLUICE_LISTEN names (Node's own fetch: no curl in the image).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const p=(process.env.SLUICE_LISTEN||'').split(':').pop()||'8080';fetch('http://127.0.0.1:'+p+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# sluice stops cleanly on SIGTERM within its shutdown grace (30 s) plus 10 s: give `docker stop -t 45` or more.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/app/bin/sluice.js"]
CMD ["serve"]
