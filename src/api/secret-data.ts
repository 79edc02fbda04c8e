// Secret `data` is base64 (Go's encoding/json decodes []byte with
// base64.StdEncoding); `stringData` is plain text merged over `data` on write.
// Both end up as decoded bytes in types.ts's Secret.data.

import type { FieldError } from './errors.ts';
import type { PathAlias } from './positions.ts';
import { isPlainObject } from './shape.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64 = new Set(ALPHABET);
const isB64 = (c: string): boolean => B64.has(c);
const isNl = (c: string | undefined): boolean => c === '\n' || c === '\r';

/**
 * Offset Go's base64.StdEncoding.Decode reports as "illegal base64 data at input
 * byte N", or -1 if `s` decodes. Mirrors decodeQuantum: padding required,
 * CR/LF ignored, nothing allowed after the padding.
 */
export function base64ErrorOffset(s: string): number {
  let si = 0;
  const n = s.length;
  while (si < n) {
    let j = 0;
    for (; j < 4; j++) {
      if (si === n) {
        if (j === 0) return -1;
        return si - j;
      }
      const c = s[si]!;
      si++;
      if (isB64(c)) continue;
      if (isNl(c)) {
        j--;
        continue;
      }
      if (c !== '=') return si - 1;
      // Padding: only in the 3rd or 4th place of a quantum.
      if (j === 0 || j === 1) return si - 1;
      if (j === 2) {
        while (si < n && isNl(s[si])) si++;
        if (si === n) return n;
        if (s[si] !== '=') return si - 1;
        si++;
      }
      while (si < n && isNl(s[si])) si++;
      return si < n ? si : -1;
    }
  }
  return -1;
}

export function decodeBase64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/[\r\n]/g, ''), 'base64'));
}

/**
 * Turn a type-checked Secret's `data` (base64) and `stringData` (text) into one
 * map of bytes, in place; `stringData` wins on a shared key and is removed.
 */
export function decodeSecretData(o: Record<string, unknown>): {
  errors: FieldError[];
  aliases: PathAlias[];
} {
  const errs: FieldError[] = [];
  const aliases: PathAlias[] = [];
  const out: Record<string, Uint8Array> = {};
  const data = o['data'];
  if (isPlainObject(data)) {
    for (const [k, v] of Object.entries(data)) {
      if (typeof v !== 'string') continue;
      const bad = base64ErrorOffset(v);
      if (bad >= 0) {
        errs.push({
          path: ['data', { key: k }],
          message: `illegal base64 data at input byte ${bad}`,
        });
      } else {
        out[k] = decodeBase64(v);
      }
    }
  }
  const stringData = o['stringData'];
  if (isPlainObject(stringData)) {
    for (const [k, v] of Object.entries(stringData)) {
      if (typeof v !== 'string') continue;
      out[k] = new TextEncoder().encode(v);
      aliases.push({ from: ['data', { key: k }], to: ['stringData', { key: k }] });
    }
  }
  delete o['stringData'];
  if (data !== undefined || stringData !== undefined) o['data'] = out;
  return { errors: errs, aliases };
}
