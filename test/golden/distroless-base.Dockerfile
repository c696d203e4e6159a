# Rendered by pulumi-golden-image. Do not edit: change the image spec instead.
# image: golden/distroless-base, flavor: distroless-base, hardening: strict

FROM mirror.example.internal/hub/library/gcc:12-bookworm@sha256:94f0fa7f897ccce65856dc5a98bae4bf6957a346766613d79414c976d093aa4a AS build
WORKDIR /src
RUN ["/bin/sh","-c","apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -- \"$@\" && apt-get clean && rm -rf /var/lib/apt/lists/*","apt-get", \
    "libssl-dev"]
COPY [".","/src"]
RUN ["/bin/sh","-c","mkdir -p /out && gcc -O2 -s -o /out/app main.c -lssl"]
RUN ["/bin/sh","-c","find / -xdev -type f -perm /6000 -exec chmod a-s {} +"]

FROM mirror.example.internal/hub/distroless-base-base:1@sha256:296dcf11247557d89f194ce13cacb638b2db0f59004120c8d3af05ce2aa57f1a AS runtime
COPY --from=build --chown=65532:65532 ["/out/app","/app/app"]
ENV APP_MODE="production" \
    TZ="UTC"
WORKDIR /app
LABEL com.example.team="platform" \
    org.opencontainers.image.base.digest="sha256:296dcf11247557d89f194ce13cacb638b2db0f59004120c8d3af05ce2aa57f1a" \
    org.opencontainers.image.base.name="mirror.example.internal/hub/distroless-base-base:1" \
    org.opencontainers.image.created="2025-11-23T00:00:00Z" \
    org.opencontainers.image.revision="3f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e" \
    org.opencontainers.image.source="https://git.example.com/platform/golden-images" \
    org.opencontainers.image.title="golden/distroless-base"
EXPOSE 8080/tcp
USER 65532:65532
HEALTHCHECK --interval=15s --timeout=5s --retries=3 CMD ["/app/app","--health"]
ENTRYPOINT ["/app/app"]
