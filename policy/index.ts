/**
 * The golden-images policy pack for consumer stacks:
 *   pulumi preview --policy-pack <this folder> --policy-pack-config <config.json>
 * The config file gives golden-images-by-digest its goldenRegistries and may override any
 * policy's enforcement level ("all" or per policy); the levels here are the defaults.
 */
import { PolicyPack } from "@pulumi/policy";
import { GOLDEN_POLICY_DEFAULTS, goldenPolicies, PACK_DESCRIPTION, PACK_NAME } from "./policies";

new PolicyPack(PACK_NAME, {
  description: PACK_DESCRIPTION,
  enforcementLevel: GOLDEN_POLICY_DEFAULTS.enforcementLevel,
  policies: goldenPolicies(),
});
