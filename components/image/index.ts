export * from "./hardened-image";
export * from "./context-hash";
export * from "./git-source";
