export * from "./catalog";
export * from "./types";
export * from "./reference";
export * from "./source";
