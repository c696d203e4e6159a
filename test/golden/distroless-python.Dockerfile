# Rendered by pulumi-golden-image. Do not edit: change the image spec instead.
# image: golden/distroless-python, flavor: distroless-python, hardening: strict

FROM mirror.example.internal/hub/library/python:3.11-slim-bookworm@sha256:11a4a60b518bf24989d481468076e5d5982884626aed9faeb35b8576fcd223e1 AS build
WORKDIR /src
COPY [".","/src"]
RUN ["/bin/sh","-c","pip install --no-cache-dir --target /out/app -r requirements.txt"]
RUN ["/bin/sh","-c","find / -xdev -type f -perm /6000 -exec chmod a-s {} +"]

FROM mirror.example.internal/hub/distroless-python-base:1@sha256:78bad7be12d85c162580c4336f5b7b7149051fdce48a45ab7dbc27a5c96ca518 AS runtime
COPY --from=build --chown=65532:65532 ["/out/app","/app/app"]
ENV APP_MODE="production" \
    TZ="UTC"
WORKDIR /app
LABEL com.example.team="platform" \
    org.opencontainers.image.base.digest="sha256:78bad7be12d85c162580c4336f5b7b7149051fdce48a45ab7dbc27a5c96ca518" \
    org.opencontainers.image.base.name="mirror.example.internal/hub/distroless-python-base:1" \
    org.opencontainers.image.created="2025-11-23T00:00:00Z" \
    org.opencontainers.image.revision="3f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e" \
    org.opencontainers.image.source="https://git.example.com/platform/golden-images" \
    org.opencontainers.image.title="golden/distroless-python"
EXPOSE 8080/tcp
USER 65532:65532
HEALTHCHECK --interval=15s --timeout=5s --retries=3 CMD ["python3","/app/app/main.py","--health"]
ENTRYPOINT ["python3","/app/app/main.py"]
