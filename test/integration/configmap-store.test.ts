/**
 * The promotion pointer on Kubernetes, written and read by the real kubectl (what the CronJob
 * runs). No API server can run here, so a small stand-in on 127.0.0.1 serves discovery and one
 * ConfigMap, and applies JSON merge patches (RFC 7386) as the API server does; kubectl builds
 * every request itself. The stand-in also records the requests, so the test sees exactly what
 * the store asked for.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { openPromotionStore, PromotionRecord, PromotionStoreError } from "../../cli/promotion-store";

const NS = "golden";
const NAME = "promoted";
let server: ChildProcess | undefined;
let dir = "";
let env: NodeJS.ProcessEnv = {};

/**
 * The stand-in, in its own process (the store calls kubectl synchronously: a server in this
 * process could not answer). State: state.json holds the ConfigMap (or null), requests.log one
 * JSON line a request.
 */
const STAND_IN = `
const http = require("http"), fs = require("fs"), path = require("path");
const dir = process.argv[2], NS = process.argv[3], NAME = process.argv[4];
const state = path.join(dir, "state.json"), log = path.join(dir, "requests.log");
function mergePatch(target, patch) {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) { if (v === null) delete out[k]; else out[k] = mergePatch(out[k], v); }
  return out;
}
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (d) => (body += d));
  req.on("end", () => {
    const url = (req.url || "").split("?")[0];
    fs.appendFileSync(log, JSON.stringify({ method: req.method, url, type: req.headers["content-type"] }) + "\\n");
    const send = (code, doc) => { res.writeHead(code, { "content-type": "application/json" }); res.end(JSON.stringify(doc)); };
    const notFound = (what) => send(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: what });
    if (url === "/api") return send(200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] });
    if (url === "/apis") return send(200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
    if (url === "/api/v1") return send(200, { kind: "APIResourceList", groupVersion: "v1", resources: [{ name: "configmaps", singularName: "configmap", namespaced: true, kind: "ConfigMap", verbs: ["get", "list", "patch", "update"], shortNames: ["cm"] }] });
    if (url === "/api/v1/namespaces/" + NS) return send(200, { kind: "Namespace", apiVersion: "v1", metadata: { name: NS }, status: { phase: "Active" } });
    if (url === "/api/v1/namespaces/" + NS + "/configmaps/" + NAME) {
      const cm = JSON.parse(fs.readFileSync(state, "utf8"));
      if (cm === null) return notFound('configmaps "' + NAME + '" not found');
      if (req.method === "GET") return send(200, cm);
      if (req.method === "PATCH" && req.headers["content-type"] === "application/merge-patch+json") {
        const next = mergePatch(cm, JSON.parse(body));
        fs.writeFileSync(state, JSON.stringify(next));
        return send(200, next);
      }
    }
    notFound("no " + req.method + " " + url);
  });
});
server.listen(0, "127.0.0.1", () => fs.writeFileSync(path.join(dir, "port"), String(server.address().port)));
`;

const setConfigMap = (cm: unknown) => fs.writeFileSync(path.join(dir, "state.json"), JSON.stringify(cm));
const configMap = () => JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8")) as { data?: Record<string, string> } | null;
const requests = () =>
  fs.existsSync(path.join(dir, "requests.log"))
    ? fs.readFileSync(path.join(dir, "requests.log"), "utf8").trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { method: string; url: string; type?: string })
    : [];

beforeAll(async () => {
  const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  if (kubectl.error !== undefined) {
    throw new Error("kubectl is not installed. Fix: run scripts/install-tools.sh (apt-get install kubernetes-client)");
  }
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "configmap-store-"));
  setConfigMap(null);
  fs.writeFileSync(path.join(dir, "stand-in.js"), STAND_IN);
  server = spawn(process.execPath, [path.join(dir, "stand-in.js"), dir, NS, NAME], { stdio: "ignore" });
  for (let i = 0; i < 100 && !fs.existsSync(path.join(dir, "port")); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = fs.readFileSync(path.join(dir, "port"), "utf8");
  const kubeconfig = path.join(dir, "kubeconfig");
  fs.writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: http://127.0.0.1:${port}\ncontexts:\n- name: local\n  context:\n    cluster: local\n    user: job\ncurrent-context: local\nusers:\n- name: job\n  user:\n    token: test-token\n`,
  );
  env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, KUBECACHEDIR: path.join(dir, "cache") };
});

afterAll(() => {
  server?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

const record = (b: string): PromotionRecord => ({
  image: "team/api-base",
  ref: `golden.registry.example.internal/golden/team/api-base@sha256:${b.repeat(64)}`,
  digest: `sha256:${b.repeat(64)}`,
  gate: "passed: 0 findings at or above HIGH",
  tag: "v-0123456789ab",
  settings: `sha256:${"c".repeat(64)}`,
});

describe("the ConfigMap promotion store with the real kubectl", () => {
  it("GIVEN the ConfigMap does not exist THEN reading is an error naming it and the fix (never 'no record')", () => {
    setConfigMap(null);
    expect(() => openPromotionStore(`configmap:${NS}/${NAME}`, env).read("team/api-base")).toThrow(PromotionStoreError);
    expect(() => openPromotionStore(`configmap:${NS}/${NAME}`, env).read("team/api-base")).toThrow(/reading in the ConfigMap golden\/promoted failed: .*not found.*Fix: check that the ConfigMap promoted exists in golden/);
  });

  it("GIVEN the empty ConfigMap the stack creates THEN there is no record yet", () => {
    setConfigMap({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: NAME, namespace: NS } });
    expect(openPromotionStore(`configmap:${NS}/${NAME}`, env).read("team/api-base")).toBeUndefined();
  });

  it("GIVEN a promotion THEN one merge patch writes the pointer and the record, which read back equal", () => {
    const before = requests().length;
    const store = openPromotionStore(`configmap:${NS}/${NAME}`, env);
    store.write(record("a"));
    expect(requests().slice(before).filter((r) => r.method === "PATCH")).toEqual([{ method: "PATCH", url: `/api/v1/namespaces/${NS}/configmaps/${NAME}`, type: "application/merge-patch+json" }]);
    expect(configMap()?.data?.["team.api-base"]).toBe(record("a").ref);
    expect(store.read("team/api-base")).toEqual(record("a"));
  });

  it("GIVEN a second promotion and another image THEN the image's keys are replaced and the other image's kept", () => {
    const store = openPromotionStore(`configmap:${NS}/${NAME}`, env);
    store.write({ ...record("d"), image: "worker", ref: `golden.registry.example.internal/golden/worker@sha256:${"d".repeat(64)}` });
    store.write(record("b"));
    expect(Object.keys(configMap()?.data ?? {}).sort()).toEqual(["team.api-base", "team.api-base.record.json", "worker", "worker.record.json"]);
    expect(store.read("team/api-base")?.digest).toBe(record("b").digest);
    expect(store.read("worker")?.digest).toBe(`sha256:${"d".repeat(64)}`);
  });
});
