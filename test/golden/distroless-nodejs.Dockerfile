# Rendered by pulumi-golden-image. Do not edit: change the image spec instead.
# image: golden/distroless-nodejs, flavor: distroless-nodejs, hardening: strict

FROM mirror.example.internal/hub/library/node:20-bookworm-slim@sha256:545ea538461003efdc8c81c244531b003f6f26cfccf6c0073b3239fdedf49446 AS build
WORKDIR /src
COPY [".","/src"]
RUN ["/bin/sh","-c","npm ci --omit=dev && mkdir -p /out && cp -r . /out/app"]
RUN ["/bin/sh","-c","find / -xdev -type f -perm /6000 -exec chmod a-s {} +"]

FROM mirror.example.internal/hub/distroless-nodejs-base:1@sha256:28c86e01d86b3143778bd6c9321184b08050277b1d29401d30d78f1027a471e3 AS runtime
COPY --from=build --chown=65532:65532 ["/out/app","/app/app"]
ENV APP_MODE="production" \
    TZ="UTC"
WORKDIR /app
LABEL com.example.team="platform" \
    org.opencontainers.image.base.digest="sha256:28c86e01d86b3143778bd6c9321184b08050277b1d29401d30d78f1027a471e3" \
    org.opencontainers.image.base.name="mirror.example.internal/hub/distroless-nodejs-base:1" \
    org.opencontainers.image.created="2025-11-23T00:00:00Z" \
    org.opencontainers.image.revision="3f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e" \
    org.opencontainers.image.source="https://git.example.com/platform/golden-images" \
    org.opencontainers.image.title="golden/distroless-nodejs"
EXPOSE 8080/tcp
USER 65532:65532
HEALTHCHECK --interval=15s --timeout=5s --retries=3 CMD ["/nodejs/bin/node","/app/app/index.js","--health"]
ENTRYPOINT ["/nodejs/bin/node","/app/app/index.js"]
