// RFC 867 daytime: on connect, send the current date and time as one line of ASCII
// text, then close. The RFC fixes no syntax; we use its suggested form, in UTC:
//   "Tuesday, February 22, 1982 17:37:43-UTC\r\n"

import type { Service } from "../server/service.ts";

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

const two = (n: number) => String(n).padStart(2, "0");

export function formatDaytime(d: Date): string {
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${DAYS[d.getUTCDay()]}, ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${time}-UTC\r\n`;
}

/** `now` is injectable for tests. */
export function daytimeService(now: () => Date = () => new Date()): Service {
  return {
    name: "daytime",
    open(ctx) {
      ctx.write(new TextEncoder().encode(formatDaytime(now())));
      ctx.close(); // flush, FIN, and discard whatever the peer sends until its FIN
      return { data: () => {}, end: () => {} };
    },
  };
}
