// Hosts that recycle the packets they receive (as SimNetwork's do) hand the application
// bytes of its own: what onData got stays intact while later packets reuse the buffers.
import test from 'ava';
import { VirtualClock } from '../../src/control/clock.ts';
import { SimHost } from '../../src/sim/host.ts';

test('data kept from onData survives the reuse of the packets it came in', (t) => {
  const clock = new VirtualClock();
  const a = new SimHost({ name: 'a', addresses: ['10.0.0.1'], clock, seed: 1 });
  const b = new SimHost({ name: 'b', addresses: ['10.0.0.2'], clock, seed: 2 });
  a.recyclePackets = true;
  b.recyclePackets = true;
  // A link that keeps nothing: the receiver owns each packet.
  a.transmit = (p) => clock.after(1000, () => b.receive(p));
  b.transmit = (p) => clock.after(1000, () => a.receive(p));
  const kept: Uint8Array[] = [];
  b.tcpListen(80, (s) => (s.onData = (d) => kept.push(d)));
  const c = a.tcpConnect('10.0.0.2', 80);
  const sent: number[] = [];
  let n = 0;
  const writeNext = (): void => {
    if (n === 50) return c.end();
    const chunk = new Uint8Array(100).fill(n++);
    sent.push(...chunk);
    c.write(chunk);
    clock.after(5000, writeNext);
  };
  c.onConnect = writeNext;
  while (clock.fireNext(3600e9));
  t.deepEqual([...kept.flatMap((d) => [...d])], sent);
});
