// The simulated TCP endpoint: connections, listeners, configuration and errors.
export { TcpConnection } from './connection.ts';
export type { TcpState, TcpStats } from './connection.ts';
export { TcpListener } from './listener.ts';
export { DEFAULT_TCP_CONFIG } from './config.ts';
export type { TcpConfig } from './config.ts';
export { SocketError, strerror, icmpToErrno } from './errors.ts';
export type { SocketErrorCode } from './errors.ts';
export type { TcpHostContext } from './connection.ts';
