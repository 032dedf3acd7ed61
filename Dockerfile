# The mlpipe image: one image, the command picks the process (`start`, `registry`, `serve`).
#   docker build -t mlpipe .
#   docker run -p 5000:5000 -p 8000:8000 mlpipe          # the whole platform, demo model included
# Without Docker Hub, scripts/container-base-image.sh builds a local stand-in for NODE_IMAGE and
# scripts/container-smoke.sh builds this file and checks every command for real.
ARG NODE_IMAGE=node:20-bookworm-slim

# Production dependencies only, with what no process can load removed.
FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# No install script is needed at run time: onnxruntime-node's only downloads CUDA libraries (not
# used: CPU inference), esbuild's and protobufjs's only check what npm already installed.
# npm 10 can end with "Exit handler never called!" and status 0 having installed nothing: the
# check after it fails the build then.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && node -e "const fs = require('node:fs'); \
      const missing = Object.keys(require('./package.json').dependencies) \
        .filter((d) => !fs.existsSync('node_modules/' + d + '/package.json')); \
      if (missing.length > 0) { console.error('npm ci did not install: ' + missing.join(', ')); process.exit(1); }" \
 && arch="$(node -p process.arch)" \
 && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin/napi-v6/linux -mindepth 1 -maxdepth 1 ! -name "$arch" -exec rm -rf {} + \
 && test -f "node_modules/onnxruntime-node/bin/napi-v6/linux/$arch/onnxruntime_binding.node" \
 && rm -rf /root/.npm

FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=https://github.com/mlpipe/mlpipe
LABEL org.opencontainers.image.title="mlpipe" \
      org.opencontainers.image.description="Experiment tracking, model registry and batched ONNX inference over gRPC, Connect and JSON" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}"
WORKDIR /app
# onnxruntime-node 1.29+ uploads usage telemetry from Linux by default; a server must not call out.
ENV NODE_ENV=production \
    MLPIPE_DATA_DIR=/var/lib/mlpipe \
    ORT_DISABLE_TELEMETRY=1
# The data directory (PGlite database, local artifacts, model cache) is the only place written.
RUN mkdir -p /var/lib/mlpipe && chown 1000:1000 /var/lib/mlpipe
COPY --from=dependencies /app/node_modules ./node_modules
# Sources are run by tsx (a runtime dependency); .dockerignore keeps tests, bench/ and test/ out.
COPY . .
USER 1000:1000
VOLUME ["/var/lib/mlpipe"]
EXPOSE 5000 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "container/healthcheck.mjs"]
ENTRYPOINT ["node", "bin/mlpipe.js"]
CMD ["start"]
