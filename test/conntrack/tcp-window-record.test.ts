// TcpWindows keeps an entry's TCP state in one 64-byte record: every field has its own
// place (writing one leaves the others alone) and a neighbour's reset leaves the entry alone.
import test from 'ava';
import {
  B_FLAGS,
  B_LDIR,
  B_LFLAGS,
  B_LINDEX,
  B_LWSCALE,
  B_RETRANS,
  B_SCALE,
  L_ACK,
  L_END,
  L_SEQ,
  L_WIN,
  TcpWindows,
  W_END,
  W_MAXACK,
  W_MAXEND,
  W_MAXWIN,
} from '../../src/conntrack/tcp-window.ts';

const WORDS = [W_END, W_MAXEND, W_MAXWIN, W_MAXACK];
const LAST = [L_SEQ, L_ACK, L_END, L_WIN];

function fill(w: TcpWindows, e: number): void {
  const o = e << 4;
  const b = e << 6;
  for (const d of [0, 1]) {
    WORDS.forEach((f, i) => (w.u32[o + (d << 2) + f] = 0x1000_0000 + d * 16 + i));
    w.u8[b + (d << 1) + B_SCALE] = 3 + d;
    w.u8[b + (d << 1) + B_FLAGS] = 0x21 + d;
  }
  LAST.forEach((f, i) => (w.u32[o + f] = 0x2000_0000 + i));
  [B_LINDEX, B_LDIR, B_LFLAGS, B_LWSCALE, B_RETRANS].forEach((f, i) => (w.u8[b + f] = 40 + i));
}

const expected = (d: number) => ({
  end: 0x1000_0000 + d * 16,
  maxEnd: 0x1000_0001 + d * 16,
  maxWin: 0x1000_0002 + d * 16,
  maxAck: 0x1000_0003 + d * 16,
  scale: 3 + d,
  flags: 0x21 + d,
});

test('every field of the record has its own place', (t) => {
  const w = new TcpWindows(4);
  fill(w, 1);
  t.deepEqual(w.dirState(1, 0), expected(0));
  t.deepEqual(w.dirState(1, 1), expected(1));
  t.deepEqual(
    w.lastState(1),
    [40, 41, 42, 43, 0x2000_0000, 0x2000_0001, 0x2000_0002, 0x2000_0003, 44],
  );
});

test('resetting the neighbours leaves an entry alone; resetting it clears it', (t) => {
  const w = new TcpWindows(4);
  fill(w, 1);
  w.resetEntry(0);
  w.resetEntry(2);
  w.resetDir(0, 1);
  w.resetDir(2, 0);
  t.deepEqual(w.dirState(1, 0), expected(0));
  t.deepEqual(w.dirState(1, 1), expected(1));
  w.resetDir(1, 1);
  t.deepEqual(w.dirState(1, 0), expected(0));
  t.deepEqual(w.dirState(1, 1), { end: 0, maxEnd: 0, maxWin: 0, maxAck: 0, scale: 0, flags: 0 });
  w.resetEntry(1);
  t.deepEqual(w.dirState(1, 0), { end: 0, maxEnd: 0, maxWin: 0, maxAck: 0, scale: 0, flags: 0 });
  t.deepEqual(w.lastState(1), [5, 0, 0, 0, 0, 0, 0, 0, 0]); // last_index = TCP_NONE_SET
});
