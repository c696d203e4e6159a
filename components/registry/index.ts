export * from "./registry";
export * from "./ecr-registry";
export * from "./existing-ecr-registry";
export * from "./ecr-base";
export * from "./backends";
export * from "./login";
export * from "./harbor-registry";
