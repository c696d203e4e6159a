/** pulumi-golden-image: the public API. */
export * from "./spec";
export * from "./render";
export * from "./registry";
export * from "./image";
export * from "./pipeline";
export * from "./errors";
