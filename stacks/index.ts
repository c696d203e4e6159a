import { createStack } from "./program";

const pipeline = createStack();

/** Image name -> repository@sha256:digest, for deployments and admission policies. */
export const refs = pipeline.refs;
/** Image name -> rendered Dockerfile: a preview shows hardening changes as a diff here. */
export const dockerfiles = pipeline.dockerfiles;
