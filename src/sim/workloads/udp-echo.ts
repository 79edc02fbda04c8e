// A UDP echo server: every datagram goes back to its sender unchanged.
import type { SimHost } from '../host.ts';
import type { UdpSocket } from '../udp.ts';

export function startUdpEcho(host: SimHost, port = 7): UdpSocket {
  const s = host.udpBind(port);
  s.onMessage = (bytes, r) => s.send(r.address, r.port, bytes);
  return s;
}
