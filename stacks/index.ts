import { createStack } from "./program";

const pipeline = createStack();

/** Image name -> repository@sha256:digest, for deployments and admission policies. */
export const refs = pipeline.refs;
/** Image name -> rendered Dockerfile: a preview shows hardening changes as a diff here. */
export const dockerfiles = pipeline.dockerfiles;
/** How the executors sign and verify (key references only, no secret). */
export const signing = pipeline.signing;
/** The public key consumers verify golden images with (cosign verify --key). */
export const signingPublicKey = pipeline.signingPublicKey;
