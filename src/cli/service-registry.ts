// The services `serve --service NAME` can run, with the default port of each and the
// service flags (--framing, --data) each one takes.

import { dictionaryFrom } from "../app/dictionary.ts";
import { appService } from "../services/app.ts";
import type { AppRequestRecord } from "../server/metrics.ts";
import { chargenService } from "../services/chargen.ts";
import { daytimeService } from "../services/daytime.ts";
import { discardService } from "../services/discard.ts";
import { echoService } from "../services/echo.ts";
import { framedEchoService } from "../services/framed-echo.ts";
import type { Service } from "../server/service.ts";
import { timeService } from "../services/time.ts";

/** Settings a service may need from the command line. */
export interface ServiceConfig {
  /** Largest frame / content the service accepts. */
  maxFrame: number;
  /** `--framing` spec, for services that frame their stream. */
  framing?: string;
  /** Parsed `--data` JSON, for the app service's search dictionary. */
  data?: unknown;
  /** App requests reported to the admin endpoint's metrics (`serve --admin`). */
  observeApp?: (r: AppRequestRecord) => void;
}

/** A service flag that does not apply or a value that does not parse (a usage error). */
export class ServiceConfigError extends Error {
  override name = "ServiceConfigError";
}

export interface ServiceEntry {
  name: string;
  summary: string;
  /** Well-known port + 7000, so defaults are memorable and need no privileges. */
  defaultPort: number;
  /** Which service flags the service takes. */
  takes: { framing?: boolean; data?: boolean };
  /** Throws ServiceConfigError for a bad --framing spec or --data content. */
  create(config: ServiceConfig): Service;
}

/** The app protocol has no well-known port; 65 is free among the classic small services. */
export const APP_PORT = 7065;

export const services: readonly ServiceEntry[] = [
  {
    name: "echo",
    summary: "RFC 862: every byte back, in order; with --framing, every frame back re-encoded",
    defaultPort: 7007,
    takes: { framing: true },
    create: (config) => {
      if (config.framing === undefined) return echoService;
      try {
        return framedEchoService(config.framing, config.maxFrame);
      } catch (err) {
        throw new ServiceConfigError(err instanceof Error ? err.message : String(err));
      }
    },
  },
  {
    name: "discard",
    summary: "RFC 863: reads and throws away everything, sends nothing",
    defaultPort: 7009,
    takes: {},
    create: () => discardService,
  },
  {
    name: "daytime",
    summary: "RFC 867: sends the date and time as a line of text, then closes",
    defaultPort: 7013,
    takes: {},
    create: () => daytimeService(),
  },
  {
    name: "chargen",
    summary: "RFC 864: sends lines of characters for as long as the peer reads",
    defaultPort: 7019,
    takes: {},
    create: () => chargenService,
  },
  {
    name: "time",
    summary: "RFC 868: sends seconds since 1900 as 4 big-endian bytes, then closes",
    defaultPort: 7037,
    takes: {},
    create: () => timeService(),
  },
  {
    name: "app",
    summary: "the application protocol (JSON header + content; search, echo, binary)",
    defaultPort: APP_PORT,
    takes: { data: true },
    create: (config) => {
      let dictionary;
      if (config.data !== undefined) {
        try {
          dictionary = dictionaryFrom(config.data);
        } catch (err) {
          throw new ServiceConfigError(err instanceof Error ? err.message : String(err));
        }
      }
      return appService({ dictionary, maxContent: config.maxFrame, observe: config.observeApp });
    },
  },
];

export function findService(name: string): ServiceEntry | undefined {
  return services.find((s) => s.name === name);
}
