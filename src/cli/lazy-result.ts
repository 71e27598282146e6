/**
 * A command result whose JSON document is built only when someone reads it: a text answer of thousands of rows
 * (`dumpheap -stat` on a compiler's dump) should not also build, and collect, the same rows as objects.
 */
import type { CommandResult } from './command';

/** `{ text, json }` with `json` computed by `build` on first read and kept (the same document on every read). */
export function lazyResult(text: string, build: () => unknown): CommandResult {
  let json: unknown;
  let built = false;
  return {
    text,
    get json(): unknown {
      if (!built) {
        json = build();
        built = true;
      }
      return json;
    },
  };
}
