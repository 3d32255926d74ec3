// The transport conformance checks: plain async functions that throw on a contract
// violation. conformance.test.ts runs them against this runtime's adapter;
// self-check.test.ts runs some against deliberately broken adapters and expects failure.
// check-kit.ts has what they are written with; each checks-*.ts file covers one concept.
import type { Check } from "./check-kit.ts";
import { bufferChecks } from "./checks-buffers.ts";
import { connectionEndChecks } from "./checks-connection-end.ts";
import { dataFlowChecks } from "./checks-data-flow.ts";
import { endpointChecks } from "./checks-endpoints.ts";
import { errorVoiceChecks } from "./checks-error-voice.ts";
import { failureChecks } from "./checks-failures.ts";

export type { Check, CheckContext } from "./check-kit.ts";

export const checks: Record<string, Check> = {
  ...dataFlowChecks,
  ...connectionEndChecks,
  ...failureChecks,
  ...endpointChecks,
  ...errorVoiceChecks,
  ...bufferChecks,
};
