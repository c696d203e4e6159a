# Rendered by pulumi-golden-image. Do not edit: change the image spec instead.
# image: golden/distroless-java, flavor: distroless-java, hardening: strict

FROM mirror.example.internal/hub/library/maven:3-eclipse-temurin-17@sha256:2b2045546c3bdfa340ee8335fcd25e12bf6fc96e292477de1cb8bf9fa2c4b365 AS build
WORKDIR /src
COPY [".","/src"]
RUN ["/bin/sh","-c","mvn -B -q package -DskipTests && mkdir -p /out && cp target/app.jar /out/app"]
RUN ["/bin/sh","-c","find / -xdev -type f -perm /6000 -exec chmod a-s {} +"]

FROM mirror.example.internal/hub/distroless-java-base:1@sha256:0600a37c5aa60c2a66d65f5245b077e7acea91cf2f018ee0cbe4142dddc30eb5 AS runtime
COPY --from=build --chown=65532:65532 ["/out/app","/app/app.jar"]
ENV APP_MODE="production" \
    TZ="UTC"
WORKDIR /app
LABEL com.example.team="platform" \
    org.opencontainers.image.base.digest="sha256:0600a37c5aa60c2a66d65f5245b077e7acea91cf2f018ee0cbe4142dddc30eb5" \
    org.opencontainers.image.base.name="mirror.example.internal/hub/distroless-java-base:1" \
    org.opencontainers.image.created="2025-11-23T00:00:00Z" \
    org.opencontainers.image.revision="3f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e" \
    org.opencontainers.image.source="https://git.example.com/platform/golden-images" \
    org.opencontainers.image.title="golden/distroless-java"
EXPOSE 8080/tcp
USER 65532:65532
HEALTHCHECK --interval=15s --timeout=5s --retries=3 CMD ["java","-jar","/app/app.jar","--health"]
ENTRYPOINT ["java","-jar","/app/app.jar"]
