import { createServer } from 'node:net';
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { CodedError, ErrorCodes } from '@gos/schema';
import { loadUws } from './uws.js';

/** `app.listen(host, port, options, cb)`: the native call takes it; the typings lack it (and the constant). */
type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => void;

/**
 * Listen on `host:port` alone. uWS sets SO_REUSEPORT by default, so a second gateway on a
 * taken port would start and the kernel would split connections between the two.
 * @throws CodedError `GW_ERR_PORT_IN_USE` when the port is taken; `GW_ERR_INTERNAL` for any
 *   other failure (the errno, e.g. `EACCES`, in the message).
 */
export async function listenExclusive(app: TemplatedApp, host: string, port: number): Promise<us_listen_socket> {
  const socket = listenNow(app, host, port);
  if (socket !== false) return socket;
  throw await listenError(host, port);
}

/** Listen on `host:port` alone, now (uWS calls back at once); false when it cannot. */
export function listenNow(app: TemplatedApp, host: string, port: number): us_listen_socket | false {
  let socket: us_listen_socket | false = false;
  // The build the gateway loaded when it started (loaded once per thread).
  const { LIBUS_LISTEN_EXCLUSIVE_PORT } = loadUws().uWS as unknown as { readonly LIBUS_LISTEN_EXCLUSIVE_PORT: number };
  (app.listen as unknown as ListenWithOptions)(host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (s) => (socket = s));
  return socket;
}

/** Why listening on `host:port` failed: `GW_ERR_PORT_IN_USE`, or `GW_ERR_INTERNAL` with the errno. */
export async function listenError(host: string, port: number): Promise<CodedError> {
  // uWS reports no errno: binding the same address with node:net names the reason.
  const reason = await bindError(host, port);
  if (reason === 'EADDRINUSE') return new CodedError(ErrorCodes.GW_ERR_PORT_IN_USE, `cannot listen on ${host}:${port}: the port is in use`);
  return new CodedError(ErrorCodes.GW_ERR_INTERNAL, `cannot listen on ${host}:${port}${reason === null ? '' : `: ${reason}`}`);
}

/** The errno of binding `host:port`, or null when it binds (and is released again). */
function bindError(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(null)));
  });
}
