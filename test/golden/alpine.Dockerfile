# Rendered by pulumi-golden-image. Do not edit: change the image spec instead.
# image: golden/alpine, flavor: alpine, hardening: strict

FROM mirror.example.internal/hub/library/alpine:3.20@sha256:54c5b3dd459d5ef778bb2fa1e23a5fb0e1b62ae66970bcb436e8f81a1a1a8e41 AS build
WORKDIR /src
RUN ["apk","add","--no-cache","--", \
    "build-base"]
COPY [".","/src"]
RUN ["/bin/sh","-c","mkdir -p /out && gcc -O2 -s -o /out/app main.c"]
RUN ["/bin/sh","-c","find / -xdev -type f -perm /6000 -exec chmod a-s {} +"]

FROM mirror.example.internal/hub/alpine-base:1@sha256:54c5b3dd459d5ef778bb2fa1e23a5fb0e1b62ae66970bcb436e8f81a1a1a8e41 AS runtime
USER 0:0
RUN ["apk","add","--no-cache","--", \
    "ca-certificates", \
    "tzdata"]
RUN ["/bin/sh","-c","grep -q \"^[^:]*:[^:]*:$1:\" /etc/passwd || echo \"nonroot:x:$1:$2:nonroot:/nonexistent:/sbin/nologin\" >> /etc/passwd; grep -q \"^[^:]*:[^:]*:$2:\" /etc/group || echo \"nonroot:x:$2:\" >> /etc/group","account","65532","65532"]
RUN rm -rf /sbin/apk /etc/apk /usr/share/apk /var/cache/apk \
 && /bin/busybox find / -xdev -type f -perm /6000 -exec /bin/busybox chmod a-s {} + \
 && /bin/busybox find / -xdev -type l -lname '*busybox*' -exec /bin/busybox rm -f {} + \
 && /bin/busybox rm -f /bin/busybox
COPY --from=build --chown=65532:65532 ["/out/app","/app/app"]
ENV APP_MODE="production" \
    TZ="UTC"
WORKDIR /app
LABEL com.example.team="platform" \
    org.opencontainers.image.base.digest="sha256:54c5b3dd459d5ef778bb2fa1e23a5fb0e1b62ae66970bcb436e8f81a1a1a8e41" \
    org.opencontainers.image.base.name="mirror.example.internal/hub/alpine-base:1" \
    org.opencontainers.image.created="2025-11-23T00:00:00Z" \
    org.opencontainers.image.revision="3f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e" \
    org.opencontainers.image.source="https://git.example.com/platform/golden-images" \
    org.opencontainers.image.title="golden/alpine"
EXPOSE 8080/tcp
USER 65532:65532
HEALTHCHECK --interval=15s --timeout=5s --retries=3 CMD ["/app/app","--health"]
ENTRYPOINT ["/app/app"]
