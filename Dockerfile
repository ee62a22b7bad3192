# Herald in a container: one static binary on a distroless base, run as a
# non-root user, with its data folder on a volume.
#
#   docker build -t herald .
#   docker run -p 8080:8080 -v herald-data:/data -e HERALD_BASE_URL=https://news.example.com herald
#
# See docs/deploy.md ("Containers") and compose.yaml for Herald with PostgreSQL.

ARG GO_VERSION=1.26.8
# What `herald version` names the build (.git is not copied in):
#   docker build --build-arg HERALD_VERSION=$(git describe --always --dirty) -t herald .
ARG HERALD_VERSION=""

FROM golang:${GO_VERSION}-bookworm AS build
ARG HERALD_VERSION
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Pure Go throughout (modernc SQLite, pgx): no C library, a static binary.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags="-s -w -X github.com/herald-news/herald/internal/cli.Version=${HERALD_VERSION}" -o /out/herald ./cmd/herald \
 && /out/herald help >/dev/null \
 && mkdir -m 0700 -p /out/data

# distroless/static: CA certificates (for SMTP relays over TLS, SNS
# certificates), time zones, /etc/passwd with the nonroot user (65532), and
# nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /usr/local/bin/herald
# Owned by nonroot, so a new named volume mounted here starts writable.
COPY --from=build --chown=65532:65532 /out/data /data
ENV HERALD_DATA=/data \
    HERALD_HTTP_ADDR=0.0.0.0:8080
VOLUME ["/data"]
EXPOSE 8080
USER 65532:65532
# herald healthcheck asks this container's herald serve for /healthz (which
# pings the database) at HERALD_HTTP_ADDR's port; the image has no curl.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/herald", "healthcheck"]
# SIGTERM (docker stop) shuts down in order: requests, then the mail in
# flight and its outcomes, then the database. Give it the time to:
# docker stop -t 30, or stop_grace_period in compose.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/herald"]
CMD ["serve"]
