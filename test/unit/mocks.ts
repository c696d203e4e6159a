/**
 * Pulumi unit-test mocks: records every resource (type, name, inputs, parent) and throws on
 * any provider function call we have not mocked, so an unexpected cloud lookup fails the test.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly urn: string;
  readonly parent?: string;
  readonly custom: boolean;
}

export const ACCOUNT_ID = "123456789012";
export const REGION = "eu-west-1";
/** A fake registry host: tests never name a real one. */
export const FAKE_ECR_HOST = `${ACCOUNT_ID}.dkr.registry.example.test`;
/** The fake registry host of any account (FAKE_ECR_HOST for ACCOUNT_ID). */
export function fakeEcrHost(registryId: string): string {
  return `${registryId}.dkr.registry.example.test`;
}

/** What the mocked registry serves: reference -> digest. Unlisted references get a digest derived from their name. */
export const REGISTRY_DIGESTS = new Map<string, string>();

/** What the mocked SSM Parameter Store holds: name -> value. */
export const SSM_PARAMETERS = new Map<string, string>();

/** Lookups made through the mocked registry data source, in order (tests assert what was resolved). */
export const REGISTRY_LOOKUPS: string[] = [];

const CALLS: Record<string, (inputs: Record<string, any>) => Record<string, any>> = {
  "docker:index/getRegistryImage:getRegistryImage": (inputs) => {
    const name = String(inputs.name);
    REGISTRY_LOOKUPS.push(name);
    const digest = REGISTRY_DIGESTS.get(name) ?? `sha256:${crypto.createHash("sha256").update(name).digest("hex")}`;
    return { name, sha256Digest: digest, insecureSkipVerify: inputs.insecureSkipVerify ?? false, id: name };
  },
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({ accountId: ACCOUNT_ID, arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/deployer/session`, userId: "AIDTEST", id: ACCOUNT_ID }),
  "aws:index/getRegion:getRegion": () => ({ name: REGION, region: REGION, id: REGION }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "example.test", id: "aws" }),
  "aws:ecr/getAuthorizationToken:getAuthorizationToken": () => ({
    authorizationToken: "dGVzdDp0ZXN0",
    proxyEndpoint: `https://${FAKE_ECR_HOST}`,
    userName: "AWS",
    password: "mock-password",
    expiresAt: "2030-01-01T00:00:00Z",
    id: "token",
  }),
  "aws:iam/getSessionContext:getSessionContext": (inputs) => ({
    arn: inputs.arn,
    issuerArn: String(inputs.arn).replace(/^arn:aws:sts::(\d+):assumed-role\/([^/]+)\/.*$/, "arn:aws:iam::$1:role/$2"),
    issuerId: "AROATEST",
    issuerName: "deployer",
    sessionName: "session",
    id: inputs.arn,
  }),
  "aws:kms/getPublicKey:getPublicKey": (inputs) => ({
    keyId: inputs.keyId,
    arn: inputs.keyId,
    publicKeyPem: `-----BEGIN PUBLIC KEY-----\nMOCK-${String(inputs.keyId)}\n-----END PUBLIC KEY-----\n`,
    publicKey: "",
    customerMasterKeySpec: "ECC_NIST_P256",
    keyUsage: "SIGN_VERIFY",
    signingAlgorithms: ["ECDSA_SHA_256"],
    encryptionAlgorithms: [],
    id: inputs.keyId,
  }),
  "aws:ssm/getParameter:getParameter": (inputs) => {
    const value = SSM_PARAMETERS.get(String(inputs.name));
    if (value === undefined) {
      throw new Error(`ParameterNotFound: ${inputs.name}`);
    }
    return { name: inputs.name, value, arn: `arn:aws:ssm:${REGION}:${ACCOUNT_ID}:parameter${inputs.name}`, type: "String", version: 1, insecureValue: value, withDecryption: true, id: inputs.name };
  },
  "aws:iam/getPolicyDocument:getPolicyDocument": (inputs) => ({ json: JSON.stringify(inputs), id: "doc" }),
  "aws:ecr/getRepository:getRepository": (inputs) => {
    const registryId: string = inputs.registryId ?? ACCOUNT_ID;
    const region: string = inputs.region ?? REGION;
    return {
      arn: `arn:aws:ecr:${region}:${registryId}:repository/${inputs.name}`,
      repositoryUrl: `${fakeEcrHost(registryId)}/${inputs.name}`,
      name: inputs.name,
      registryId,
      region,
      id: inputs.name,
    };
  },
};

/** A KMS key id (a UUID) derived from the resource name: stable across runs, shaped like AWS's. */
export function mockKeyId(name: string): string {
  const h = crypto.createHash("sha256").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A positive integer derived from a resource name (Harbor's numeric ids). */
export function mockNumber(name: string): number {
  return (parseInt(crypto.createHash("sha256").update(name).digest("hex").slice(0, 6), 16) % 9999) + 1;
}

const TLS_KEYS = new Map<string, Record<string, string>>();

function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  switch (type) {
    case "aws:ecr/repository:Repository":
      return {
        arn: `arn:aws:ecr:${REGION}:${ACCOUNT_ID}:repository/${inputs.name ?? name}`,
        repositoryUrl: `${FAKE_ECR_HOST}/${inputs.name ?? name}`,
        registryId: ACCOUNT_ID,
      };
    case "aws:kms/key:Key":
      return { arn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${mockKeyId(name)}`, keyId: mockKeyId(name) };
    case "aws:iam/role:Role":
      return { arn: `arn:aws:iam::${ACCOUNT_ID}:role/${inputs.name ?? name}`, name: inputs.name ?? name };
    case "docker-build:index:Image": {
      const digest = `sha256:${crypto.createHash("sha256").update(JSON.stringify(inputs)).digest("hex")}`;
      const tag: string = (inputs.tags ?? [])[0] ?? name;
      return { digest, ref: `${tag.replace(/:[^:/]+$/, "")}@${digest}`, contextHash: "hash" };
    }
    case "tls:index/privateKey:PrivateKey": {
      // A real key, so what the component derives from it (cosign's format) is real too; one per
      // resource name in this process, as a real stack keeps its key in the state across runs.
      let key = TLS_KEYS.get(name);
      if (key === undefined) {
        const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
        key = {
          privateKeyPemPkcs8: privateKey.export({ format: "pem", type: "pkcs8" }) as string,
          privateKeyPem: privateKey.export({ format: "pem", type: "sec1" }) as string,
          publicKeyPem: publicKey.export({ format: "pem", type: "spki" }) as string,
        };
        TLS_KEYS.set(name, key);
      }
      return key;
    }
    case "aws:codebuild/project:Project":
      return { arn: `arn:aws:codebuild:${REGION}:${ACCOUNT_ID}:project/${inputs.name ?? name}`, name: inputs.name ?? name };
    case "aws:sqs/queue:Queue":
      return { arn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${inputs.name ?? name}`, url: `https://queue.example.test/${ACCOUNT_ID}/${inputs.name ?? name}` };
    case "aws:secretsmanager/secret:Secret":
      return { arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${inputs.namePrefix ?? name}AbCdEf` };
    case "aws:scheduler/schedule:Schedule":
      return { arn: `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule/default/${name}` };
    case "aws:cloudwatch/eventRule:EventRule":
      return { arn: `arn:aws:events:${REGION}:${ACCOUNT_ID}:rule/${name}`, name };
    case "random:index/randomPassword:RandomPassword":
    {
      const result = crypto.createHash("sha256").update(name).digest("base64url").slice(0, inputs.length ?? 16);
      // A stand-in with bcrypt's shape (`$2a$<cost>$` then 53 characters); the provider computes the real one.
      return { result, bcryptHash: `$2a$10$${crypto.createHash("sha256").update(`bcrypt:${result}`).digest("hex").slice(0, 53)}` };
    }
    // Harbor (Pulumiverse provider): what the provider computes. A project's id is `/projects/<n>`
    // in the real provider; the mock id (`<name>-id`) stands in for it.
    case "harbor:index/project:Project":
      return { projectId: mockNumber(name) };
    case "harbor:index/robotAccount:RobotAccount": {
      const namespace = String(inputs.permissions?.[0]?.namespace ?? "");
      return {
        fullName: inputs.level === "project" ? `robot$${namespace}+${inputs.name ?? name}` : `robot$${inputs.name ?? name}`,
        robotId: `/robots/${mockNumber(name)}`,
        secret: inputs.secret ?? crypto.createHash("sha256").update(`robot:${name}`).digest("base64url").slice(0, 32),
      };
    }
    case "harbor:index/registry:Registry":
      return { registryId: mockNumber(name), status: "healthy" };
    default:
      return {};
  }
}

export class MockRecorder {
  public readonly resources: RecordedResource[] = [];
  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }
  one(type: string): RecordedResource {
    const found = this.ofType(type);
    if (found.length !== 1) {
      throw new Error(`expected one ${type}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
    }
    return found[0];
  }
  byName(name: string): RecordedResource {
    const found = this.resources.find((r) => r.name === name);
    if (found === undefined) {
      throw new Error(`no resource named ${name}; have: ${this.resources.map((r) => r.name).join(", ")}`);
    }
    return found;
  }
}

let installed: { key: string; recorder: MockRecorder } | undefined;

/**
 * Installs mocks once per project/stack and hands back an emptied recorder on later calls:
 * one mock monitor for the whole file, so a component's late `registerOutputs` from an
 * earlier test never hits a monitor that does not know it.
 */
export function setupMocks(project = "golden-test", stack = "dev"): MockRecorder {
  const key = `${project}/${stack}`;
  if (installed !== undefined && installed.key === key) {
    installed.recorder.resources.length = 0;
    return installed.recorder;
  }
  const recorder = new MockRecorder();
  installed = { key, recorder };
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        const urn = `urn:pulumi:${stack}::${project}::${args.type}::${args.name}`;
        recorder.resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          urn,
          parent: (args as unknown as { parent?: string }).parent,
          custom: args.custom ?? true,
        });
        return { id: `${args.name}-id`, state: { ...args.inputs, ...computedState(args.type, args.name, args.inputs) } };
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        const handler = CALLS[args.token];
        if (handler === undefined) {
          throw new Error(`unmocked provider call ${args.token}: add it to test/unit/mocks.ts if the component really needs it`);
        }
        return handler(args.inputs);
      },
    },
    project,
    stack,
    false,
  );
  return recorder;
}

/** Resolves an Output in a test (undefined while unknown). */
export function valueOf<T>(output: pulumi.Input<T> | pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** Waits until every resource registration queued so far has reached the mocks. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setImmediate(r));
  }
}

interface Internal {
  __name?: string;
  __pulumiType?: string;
  __childResources?: Set<Internal>;
}

/** Names (`type::name`) of every resource created under `root`, through any depth of parents. */
export function descendantsOf(root: pulumi.Resource): string[] {
  const out: string[] = [];
  const walk = (r: Internal) => {
    for (const child of r.__childResources ?? []) {
      out.push(`${child.__pulumiType}::${child.__name}`);
      walk(child);
    }
  };
  walk(root as unknown as Internal);
  return out.sort();
}
