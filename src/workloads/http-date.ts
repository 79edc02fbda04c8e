// The HTTP date (RFC 9110 §5.6.7, IMF-fixdate), as nginx writes it in Date and
// Last-Modified: "Tue, 26 Jul 2022 11:18:20 GMT".

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** IMF-fixdate of a wall-clock time in ms since the epoch. */
export function httpDate(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return (
    `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ` +
    `${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:` +
    `${pad(d.getUTCSeconds())} GMT`
  );
}
