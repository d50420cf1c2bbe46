# patroni-router: a Postgres wire-protocol router that follows Patroni's etcd keys.
#
#   docker build -t patroni-router .
#   docker run -v $PWD/router.yml:/etc/patroni-router/router.yml:ro -p 5000:5000 -p 5001:5001 -p 7000:7000 patroni-router
#
# Inside a container the listeners (and the admin API, if it must be reached from outside)
# have to bind 0.0.0.0 in router.yml; the HEALTHCHECK runs inside the container, so an admin
# API on 127.0.0.1:7000 (the default) is enough for it.

# Build stage: dev dependencies and the TypeScript compiler.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Final stage: runtime dependencies and the compiled router only.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
RUN groupadd --system patroni-router && useradd --system --gid patroni-router --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin patroni-router && mkdir -p /etc/patroni-router
USER patroni-router
EXPOSE 5000 5001 7000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:7000/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/cli.js", "--config", "/etc/patroni-router/router.yml"]
