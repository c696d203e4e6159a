export * from "./hardened-image";
export * from "./context-hash";
