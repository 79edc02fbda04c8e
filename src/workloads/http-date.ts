// The HTTP date (RFC 9110 §5.6.7, IMF-fixdate), as nginx writes it in Date and
// Last-Modified: "Tue, 26 Jul 2022 11:18:20 GMT". ECMA-262 defines toUTCString() as
// exactly this layout (seconds precision, four-digit year).

/** IMF-fixdate of a wall-clock time in ms since the epoch. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
