# The mtf-ping-pong worker image (also the CLI: `docker run --rm IMAGE status`).
#   docker build -t mtf-ping-pong:0.1.0 .
# Two stages: `build` compiles TypeScript and prebuilds the workflow bundles with the dev
# dependencies; `runtime` holds the production dependencies, the compiled code and the bundles only.
# test/image/image.test.ts builds it and runs the image with a Docker engine of its own (`npm run test:image`);
# test/server/dockerfile.test.ts lints it with hadolint; test/server/image.test.ts runs its RUN steps without an engine.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm's cache stays in a BuildKit cache mount, out of the layers. `npm ls` fails the step when a
# package is missing: npm ci can fail every fetch (an untrusted proxy certificate) and still exit 0
# with an empty node_modules, and the build would only fail later, at "tsc: not found".
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund \
 && npm ls --depth=0 > /dev/null
COPY tsconfig.json ./
COPY src ./src
COPY scripts/bundle-dashboard.mjs ./scripts/
# `npm run build` = tsc + the dashboard's browser bundle (esbuild, a dev dependency: into
# dist/src/dashboard/page-assets.js) + the prebuilt workflow bundles (dist/workflow-bundle*.js): the
# worker then starts without webpack. The CLI's entry point becomes executable for the `mtf-ping-pong` link.
RUN npm run build && chmod 0755 dist/src/cli/main.js

FROM ${NODE_IMAGE} AS runtime
# tini is PID 1: it forwards SIGTERM to the entrypoint (and, after its `exec`, to the worker
# itself, whose graceful shutdown lets a running MTF call finish) and reaps orphans.
# `mtf-ping-pong` on PATH is the compiled CLI (package.json "bin").
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.0-1* \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && ln -s /app/dist/src/cli/main.js /usr/local/bin/mtf-ping-pong
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Production dependencies only (checked as in the build stage), less what the runtime never loads:
# - the SDK's native bridge keeps this platform's prebuilt binary, not the other platforms' nor its
#   Rust sources (about 110 MB);
# - the workflow bundler's compiler, SWC and its loader (about 11 MB): the SDK loads them only to
#   bundle workflow code, and the worker runs the prebuilt bundles (workflowSource in
#   src/worker/worker.ts). The rest of the bundler stays: @temporalio/worker loads webpack, memfs
#   and unionfs when it is required, bundle or not;
# - type declarations and source maps (about 26 MB): nothing reads them at run time.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund \
 && npm ls --omit=dev --depth=0 > /dev/null \
 && bridge=node_modules/@temporalio/core-bridge \
 && target="$(node -p "require('./$bridge/common').getPrebuiltTargetName()")" \
 && find "$bridge/releases" -mindepth 1 -maxdepth 1 ! -name "$target" -exec rm -rf {} + \
 && rm -rf "$bridge/sdk-core" "$bridge/src" "$bridge/bridge-macros" "$bridge/Cargo.toml" "$bridge/Cargo.lock" \
 && rm -rf node_modules/@swc node_modules/swc-loader \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/workflow-bundle.js /app/dist/workflow-bundle-encoded-failures.js ./dist/
COPY --chmod=0755 deploy/entrypoint.sh ./deploy/entrypoint.sh

# The code's defaults (src/shared/messages.ts, src/worker/main.ts), except where a container needs
# others: Temporal at the seed's `temporal:7233` (the code's localhost:7233 is this container), and
# the metrics and health endpoints on every interface. START_LOOP, TEMPORAL_WAIT: deploy/entrypoint.sh.
ENV TEMPORAL_ADDRESS=temporal:7233 \
    TEMPORAL_NAMESPACE=default \
    TASK_QUEUE_NAME=mtf-ping-pong-queue \
    WORKER_IDENTITY=mtf-ping-pong-worker \
    METRICS_ADDRESS=0.0.0.0:9464 \
    HEALTH_ADDRESS=0.0.0.0:9465 \
    LOG_FORMAT=json \
    START_LOOP=false \
    TEMPORAL_WAIT=120s

# The node image's unprivileged `node` user, by number so that Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 9464 9465

# Liveness of the worker's /healthz on HEALTH_ADDRESS's port, with node's own fetch (no curl here).
# The start period covers the entrypoint's wait for Temporal (TEMPORAL_WAIT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=150s --retries=3 \
  CMD ["node", "-e", "const a=process.env.HEALTH_ADDRESS||'127.0.0.1:9465';const i=a.lastIndexOf(':');let h=a.slice(0,i);if(h==='0.0.0.0'||h==='[::]'||h==='')h='127.0.0.1';fetch('http://'+h+':'+a.slice(i+1)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),e=>{console.error(String(e));process.exit(1)})"]

# Exec form: tini gets the signals; the entrypoint `exec`s the worker, so SIGTERM reaches node
# (with MTF_FLEET_FILE it stays the worker's parent and passes SIGTERM on).
ENTRYPOINT ["/usr/bin/tini", "--", "/app/deploy/entrypoint.sh"]
CMD ["worker"]
