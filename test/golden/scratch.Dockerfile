# Rendered by pulumi-golden-image. Do not edit: change the image spec instead.
# image: golden/scratch, flavor: scratch, hardening: strict

FROM mirror.example.internal/hub/library/gcc:12-bookworm@sha256:94f0fa7f897ccce65856dc5a98bae4bf6957a346766613d79414c976d093aa4a AS build
WORKDIR /src
COPY [".","/src"]
RUN ["/bin/sh","-c","mkdir -p /out && gcc -static -Os -s -o /out/app main.c"]
RUN ["/bin/sh","-c","find / -xdev -type f -perm /6000 -exec chmod a-s {} +"]
RUN ["/bin/sh","-c","mkdir -p /golden-accounts && printf '%s\\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' > /golden-accounts/passwd && printf '%s\\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' > /golden-accounts/group"]

FROM scratch AS runtime
COPY --from=build ["/golden-accounts/passwd","/etc/passwd"]
COPY --from=build ["/golden-accounts/group","/etc/group"]
COPY --from=build --chown=65532:65532 ["/out/app","/app/app"]
ENV APP_MODE="production" \
    TZ="UTC"
WORKDIR /app
LABEL com.example.team="platform" \
    org.opencontainers.image.created="2025-11-23T00:00:00Z" \
    org.opencontainers.image.revision="3f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e" \
    org.opencontainers.image.source="https://git.example.com/platform/golden-images" \
    org.opencontainers.image.title="golden/scratch"
EXPOSE 8080/tcp
USER 65532:65532
HEALTHCHECK --interval=15s --timeout=5s --retries=3 CMD ["/app/app","--health"]
ENTRYPOINT ["/app/app"]
