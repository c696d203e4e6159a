export * from "./issues";
export * from "./schema";
export * from "./resolve";
export * from "./validate";
export * from "./dockerfile";
export * from "./lint";
export * from "./lifecycle";
export * from "./iam";
