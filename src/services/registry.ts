// The services `serve --service NAME` can run, with the default port of each.

import { echoService } from "./echo.ts";
import type { Service } from "./service.ts";

/** Settings a service may need from the command line. */
export interface ServiceConfig {
  /** Largest frame / content the service accepts. */
  maxFrame: number;
  /** `--framing` spec, for services that frame their stream. */
  framing?: string;
  /** Parsed `--data` JSON, for the app service's search dictionary. */
  data?: unknown;
}

export interface ServiceEntry {
  name: string;
  summary: string;
  /** Well-known port + 7000, so defaults are memorable and need no privileges. */
  defaultPort: number;
  create(config: ServiceConfig): Service;
}

export const services: readonly ServiceEntry[] = [
  {
    name: "echo",
    summary: "RFC 862: every byte received is sent back, in order",
    defaultPort: 7007,
    create: () => echoService,
  },
];

export function findService(name: string): ServiceEntry | undefined {
  return services.find((s) => s.name === name);
}
