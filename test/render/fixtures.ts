/** One representative spec per flavor, digest-pinned, used by the golden files and the judge. */
import * as crypto from "crypto";
import { EnvironmentPolicy, Flavor, FLAVORS, ImageSpec } from "../../components/spec";

export const digestOf = (seed: string) => `sha256:${crypto.createHash("sha256").update(seed).digest("hex")}`;

export const PROD: EnvironmentPolicy = { environment: "prod", mirror: "mirror.example.internal/hub", sourceDateEpoch: 1763856000 };

const BUILDER: Record<Flavor, { image: string; run: string[]; packages?: string[] }> = {
  "distroless-static": { image: `library/gcc:12-bookworm@${digestOf("gcc")}`, run: ["mkdir -p /out && gcc -static -Os -s -o /out/app main.c"] },
  "distroless-base": { image: `library/gcc:12-bookworm@${digestOf("gcc")}`, run: ["mkdir -p /out && gcc -O2 -s -o /out/app main.c -lssl"], packages: ["libssl-dev"] },
  "distroless-cc": { image: `library/gcc:12-bookworm@${digestOf("gcc")}`, run: ["mkdir -p /out && g++ -O2 -s -o /out/app main.cc"] },
  "distroless-java": { image: `library/maven:3-eclipse-temurin-17@${digestOf("maven")}`, run: ["mvn -B -q package -DskipTests && mkdir -p /out && cp target/app.jar /out/app"] },
  "distroless-python": { image: `library/python:3.11-slim-bookworm@${digestOf("python")}`, run: ["pip install --no-cache-dir --target /out/app -r requirements.txt"] },
  "distroless-nodejs": { image: `library/node:20-bookworm-slim@${digestOf("node")}`, run: ["npm ci --omit=dev && mkdir -p /out && cp -r . /out/app"] },
  alpine: { image: `library/alpine:3.20@${digestOf("alpine")}`, run: ["mkdir -p /out && gcc -O2 -s -o /out/app main.c"], packages: ["build-base"] },
  "debian-slim": { image: `library/gcc:12-bookworm@${digestOf("gcc")}`, run: ["mkdir -p /out && gcc -O2 -s -o /out/app main.c"] },
  scratch: { image: `library/gcc:12-bookworm@${digestOf("gcc")}`, run: ["mkdir -p /out && gcc -static -Os -s -o /out/app main.c"] },
};

const ENTRY: Partial<Record<Flavor, string[]>> = {
  "distroless-java": ["java", "-jar", "/app/app.jar"],
  "distroless-python": ["python3", "/app/app/main.py"],
  "distroless-nodejs": ["/nodejs/bin/node", "/app/app/index.js"],
};

export function flavorFixture(flavor: Flavor): ImageSpec {
  const b = BUILDER[flavor];
  const dest = flavor === "distroless-java" ? "/app/app.jar" : "/app/app";
  return {
    name: `golden/${flavor}`,
    flavor,
    ...(flavor === "scratch" ? {} : { base: `${flavor}-base:1@${digestOf(flavor)}` }),
    builders: [{ name: "build", image: b.image, copy: [{ src: ".", dest: "/src" }], run: b.run, ...(b.packages ? { packages: b.packages } : {}) }],
    copy: [{ from: "build", src: "/out/app", dest }],
    ...(flavor === "alpine" || flavor === "debian-slim" ? { packages: ["ca-certificates", "tzdata"] } : {}),
    entrypoint: ENTRY[flavor] ?? ["/app/app"],
    workdir: "/app",
    env: { TZ: "UTC", APP_MODE: "production" },
    expose: [8080],
    healthcheck: { test: [...(ENTRY[flavor] ?? ["/app/app"]), "--health"], interval: "15s" },
    labels: { "com.example.team": "platform" },
    source: { url: "https://git.example.com/platform/golden-images", revision: "3f2c1d0e9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e" },
  };
}

export const FLAVOR_FIXTURES: readonly (readonly [Flavor, ImageSpec])[] = FLAVORS.map((f) => [f, flavorFixture(f)] as const);
