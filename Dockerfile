# syncd's container image: a static binary on distroless, running as
# nonroot, its state file on a volume.
#
#   docker build --build-arg VERSION=1.2.3 --build-arg COMMIT=$(git rev-parse HEAD) -t syncd .
#
# Base images are pinned. The runtime image by digest (with its tag kept for
# readers and for Renovate/Dependabot). The Go builder by exact tag only: no
# registry digest for it could be confirmed, and it only compiles, since the
# binary it produces is static and carries its own zone data. Bump both
# deliberately. docs/docker.md says the same.

FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/syncd ./cmd/syncd \
 && mkdir -p /out/state

# static-debian12: CA certificates, /etc/passwd with nonroot (65532), no
# shell, no libc. Time-zone data is in the binary (time/tzdata).
FROM gcr.io/distroless/static-debian12:nonroot@sha256:f5b485ea962d9bd1186b2f6b3a061191539b905b82ec395de78cbfae51f20e35
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="syncd" \
      org.opencontainers.image.description="Sends call recordings from DTAC One Call and 3CX to the CRK Call Recording AI API" \
      org.opencontainers.image.source="https://github.com/crkai/syncd" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=build /out/syncd /syncd
# The state directory, owned by nonroot so that a new named volume mounted
# here starts writable (Docker copies this ownership into it).
COPY --from=build --chown=65532:65532 /out/state /var/lib/syncd
ENV SYNCD_STATE_PATH=/var/lib/syncd/syncd.db \
    SYNCD_LISTEN_ADDR=0.0.0.0:9464
VOLUME /var/lib/syncd
EXPOSE 9464
# -healthcheck asks the daemon's /healthz on SYNCD_LISTEN_ADDR (127.0.0.1
# when it listens on 0.0.0.0): 0 healthy, 1 not.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["/syncd", "-healthcheck"]
USER nonroot
# On SIGTERM syncd lets uploads in flight finish for up to 25 s: give the
# container a longer stop timeout (docker stop -t 40, compose's
# stop_grace_period: 40s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/syncd"]
