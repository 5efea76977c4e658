# capi-mcp's container image: the gateway with its production dependencies only, run as a
# non-root user on a read-only root filesystem (the chart mounts /tmp as the only writable place).
#
#   docker build -t capi-mcp:0.1.0 .
#
# The production install is packaging/install-production.sh, the same script
# e2e/tests/packaging.test.ts runs and checks (non-root, read-only tree, no devDependency, size).

# --- build: compile the workspace, then install the production tree into /opt/capi-mcp ---------
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc tsconfig.base.json tsconfig.json turbo.json ./
COPY e2e/package.json e2e/package.json
COPY packages/ packages/
COPY packaging/install-production.sh packaging/install-production.sh
COPY LICENSE ./
# --ignore-scripts: the build needs no install script (the `node` devDependency's script would
# download a second Node; the image's own Node 24 builds and runs).
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm run build \
  && bash packaging/install-production.sh /opt/capi-mcp

# --- runtime: Node 24 and the installed tree, nothing else ---------------------------------------
FROM node:24-bookworm-slim
# npm, npx and corepack are not needed to run the gateway: remove them from the image.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
  /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
COPY --from=build /opt/capi-mcp /opt/capi-mcp
ENV NODE_ENV=production PATH=/opt/capi-mcp/bin:$PATH HOME=/tmp
# A numeric user, so Kubernetes can check runAsNonRoot: 1000, the uid the chart runs as (the
# base image's `node` user). It owns nothing under /opt/capi-mcp: the tree is root's, read-only.
USER 1000:1000
WORKDIR /tmp
EXPOSE 8080
# `capi-mcp` is the command, `serve` its default: the chart passes `serve --config <file>`, and
# `docker run <image> --help` or `version` reach the CLI itself.
ENTRYPOINT ["capi-mcp"]
CMD ["serve"]
