// The `search` action's dictionary: a small built-in default (the tutorial's), or the
// JSON object given with `serve --service app --data FILE.json`.

export type Dictionary = ReadonlyMap<string, unknown>;

export const DEFAULT_DICTIONARY: Dictionary = new Map<string, unknown>([
  ["morpheus", "Follow the white rabbit. \u{1f430}"],
  ["ring", "In the caves beneath the Misty Mountains. \u{1f48d}"],
  ["\u{1f436}", "\u{1f43e} Playing ball! \u{1f3d0}"],
]);

/**
 * A dictionary from parsed JSON: an object whose keys are the search terms; values may
 * be any JSON. A Map, so that keys like "constructor" or "__proto__" are just keys.
 */
export function dictionaryFrom(data: unknown): Dictionary {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Error("the app dictionary must be a JSON object of search term -> result");
  }
  return new Map(Object.entries(data));
}
