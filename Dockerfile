# syntax=docker/dockerfile:1
#
# The `fabriques` API server, as a container image.
#
#   docker build -t fabriques .
#   docker run --rm -p 8080:8080 -e FABRIQUES_JWT_SECRET="$(openssl rand -base64 48)" \
#       -v fabriques-data:/var/lib/fabriques fabriques
#
# The server listens on 0.0.0.0 here, and it refuses to listen on a non-loopback address
# with a generated JWT key: configure FABRIQUES_JWT_SECRET (or FABRIQUES_JWT_SECRET_FILE,
# or EdDSA/RS256 key files). Without DATABASE_URL it keeps a SQLite database in
# FABRIQUES_DATA_DIR, so mount a volume there; with docker-compose.yml it uses PostgreSQL.

# ---- build ---------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the registry and the target directory between builds (BuildKit);
# the binary is copied out of the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p fabriques-api \
    && install -m 0755 target/release/fabriques /usr/local/bin/fabriques

# ---- runtime -------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 fabriques \
    && useradd --system --uid 10001 --gid fabriques --home-dir /var/lib/fabriques \
        --no-create-home --shell /usr/sbin/nologin fabriques \
    && install -d -o fabriques -g fabriques -m 0700 /var/lib/fabriques
COPY --from=builder /usr/local/bin/fabriques /usr/local/bin/fabriques

ENV FABRIQUES_BIND=0.0.0.0:8080 \
    FABRIQUES_DATA_DIR=/var/lib/fabriques \
    FABRIQUES_LOG_FORMAT=json

# Numeric, so that orchestrators enforcing "run as non-root" can check it.
USER 10001:10001
WORKDIR /var/lib/fabriques
EXPOSE 8080
ENTRYPOINT ["fabriques"]
CMD ["serve"]
