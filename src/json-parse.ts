// JSON.parse, except that object keys written with escapes are decoded by our own code.
//
// V8 (Deno 2.9 / V8 15.0, Node >= 24; not Node 20's V8 11.3, not Bun's JSC) can decode an
// escaped object key wrongly once an earlier parse has built an object with the same
// keys before it: after JSON.parse('{"h":0,"\\\\":1}'), JSON.parse('{"h":0,"\\u001b":1}')
// yields the key "\\" instead of "\u001b" (chromium issue 521080746, nodejs/node#63785;
// docs/decisions.md entry 60). Only keys containing an escape are affected and an escape
// needs a backslash, so text without one goes to JSON.parse; the rest is parsed here, with
// JSON.parse still decoding each string token on its own (no key involved) and Number()
// each number token (the same value JSON.parse gives).

/** Parses JSON text like JSON.parse (same values, key order, own "__proto__"); throws SyntaxError. */
export function parseJson(text: string): unknown {
  return text.includes("\\") ? parseEscaped(text) : JSON.parse(text);
}

type Open = { items: unknown[] } | { object: Record<string, unknown>; key: string };

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** The structural parser: iterative (no recursion limit), one open container per level. */
export function parseEscaped(text: string): unknown {
  const n = text.length;
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`JSON: ${what} at position ${Math.min(i, n)}`);
  };
  const skipSpace = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  };
  // A string token from the opening quote at i; JSON.parse checks and decodes its content.
  const string = (): string => {
    const start = i;
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return JSON.parse(text.slice(start, ++i)) as string;
      if (c === 0x5c) i++;
    }
    return fail("unterminated string");
  };
  const key = (): string => {
    skipSpace();
    if (text.charCodeAt(i) !== 0x22) fail("expected a property name");
    const k = string();
    skipSpace();
    if (text.charCodeAt(i++) !== 0x3a) fail('expected ":"');
    return k;
  };
  const open: Open[] = [];
  for (;;) {
    // One value, or the start of a non-empty container.
    skipSpace();
    let value: unknown;
    const c = text.charCodeAt(i);
    if (c === 0x7b) {
      i++;
      skipSpace();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        value = {};
      } else {
        open.push({ object: {}, key: key() });
        continue;
      }
    } else if (c === 0x5b) {
      i++;
      skipSpace();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        value = [];
      } else {
        open.push({ items: [] });
        continue;
      }
    } else if (c === 0x22) {
      value = string();
    } else if (text.startsWith("true", i)) {
      [value, i] = [true, i + 4];
    } else if (text.startsWith("false", i)) {
      [value, i] = [false, i + 5];
    } else if (text.startsWith("null", i)) {
      [value, i] = [null, i + 4];
    } else {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m === null) fail(i < n ? "unexpected character" : "unexpected end");
      value = Number(m![0]);
      i = NUMBER.lastIndex;
    }
    // Store it; close every container that ends here; stop at a "," (the next value follows).
    for (;;) {
      const top = open.at(-1);
      skipSpace();
      if (top === undefined) {
        if (i < n) fail("unexpected text after the value");
        return value;
      }
      const d = text.charCodeAt(i++);
      if ("items" in top) {
        top.items.push(value);
        if (d === 0x2c) break;
        if (d !== 0x5d) fail('expected "," or "]"');
        value = top.items;
      } else {
        // CreateDataProperty, as JSON.parse: "__proto__" is an own property, not the prototype.
        if (top.key === "__proto__") {
          Object.defineProperty(top.object, top.key, { value, writable: true, enumerable: true, configurable: true });
        } else top.object[top.key] = value;
        if (d === 0x2c) {
          top.key = key();
          break;
        }
        if (d !== 0x7d) fail('expected "," or "}"');
        value = top.object;
      }
      open.pop();
    }
  }
}
