export { STEP_KINDS, TOOL_NAMES, Step, StepKind, StepRun, Plan, ToolName, resultRef } from "./types";
export { planImage, planImages, ImageTarget, PinInput, PLAN_DEFAULTS, imageWorkDir, normalizeContext, SupplyChainTarget, SUPPLY_CHAIN_KINDS } from "./planner";
export { planProblems, assertPlan, substituteResults } from "./check";
export { TOOLS, ToolInfo } from "./tools";
export { renderPlanScript, shellQuote } from "./script";
