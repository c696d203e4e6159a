# Rendered by pulumi-golden-image. Do not edit: change the image spec instead.
# image: golden/debian-slim, flavor: debian-slim, hardening: strict

FROM mirror.example.internal/hub/library/gcc:12-bookworm@sha256:94f0fa7f897ccce65856dc5a98bae4bf6957a346766613d79414c976d093aa4a AS build
WORKDIR /src
COPY [".","/src"]
RUN ["/bin/sh","-c","mkdir -p /out && gcc -O2 -s -o /out/app main.c"]
RUN ["/bin/sh","-c","find / -xdev -type f -perm /6000 -exec chmod a-s {} +"]

FROM mirror.example.internal/hub/debian-slim-base:1@sha256:195d1fb8cd3ed21da08fae519384284d7aeadc485dcbefbc9f949e4dc899e15a AS runtime
USER 0:0
RUN ["/bin/sh","-c","apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -- \"$@\" && apt-get clean && rm -rf /var/lib/apt/lists/*","apt-get", \
    "ca-certificates", \
    "tzdata"]
RUN ["/bin/sh","-c","grep -q \"^[^:]*:[^:]*:$1:\" /etc/passwd || echo \"nonroot:x:$1:$2:nonroot:/nonexistent:/sbin/nologin\" >> /etc/passwd; grep -q \"^[^:]*:[^:]*:$2:\" /etc/group || echo \"nonroot:x:$2:\" >> /etc/group","account","65532","65532"]
RUN rm -rf /var/lib/apt /var/cache/apt /var/cache/debconf /var/log/apt /etc/apt /etc/dpkg /usr/lib/apt /usr/share/doc /usr/share/man /var/lib/dpkg/info \
 && rm -f /usr/bin/apt /usr/bin/apt-* /usr/bin/dpkg /usr/bin/dpkg-* /usr/sbin/dpkg-* /usr/bin/debconf* /usr/sbin/update-* \
 && find / -xdev -type f -perm /6000 -exec chmod a-s {} + \
 && rm -f /bin/bash /usr/bin/bash /bin/rbash /usr/bin/rbash /bin/dash /usr/bin/dash /bin/sh /usr/bin/sh
COPY --from=build --chown=65532:65532 ["/out/app","/app/app"]
ENV APP_MODE="production" \
    TZ="UTC"
WORKDIR /app
LABEL com.example.team="platform" \
    org.opencontainers.image.base.digest="sha256:195d1fb8cd3ed21da08fae519384284d7aeadc485dcbefbc9f949e4dc899e15a" \
    org.opencontainers.image.base.name="mirror.example.internal/hub/debian-slim-base:1" \
    org.opencontainers.image.created="2025-11-23T00:00:00Z" \
    org.opencontainers.image.revision="3f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e" \
    org.opencontainers.image.source="https://git.example.com/platform/golden-images" \
    org.opencontainers.image.title="golden/debian-slim"
EXPOSE 8080/tcp
USER 65532:65532
HEALTHCHECK --interval=15s --timeout=5s --retries=3 CMD ["/app/app","--health"]
ENTRYPOINT ["/app/app"]
