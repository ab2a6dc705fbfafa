import { createServer, type Server } from 'node:http';
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import type { Registry } from 'prom-client';

/** A running metrics endpoint: `GET /metrics` on its own port. */
export interface MetricsServer {
  /** `http://host:port/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serve `registry` at `GET /metrics` on `host:port` (0: a free port) — for the roles without
 * an HTTP port of their own (engines, coordinators); gateways serve it on theirs. Anything
 * else answers 404.
 * The port is bound exclusively, like every listener of the cluster.
 * @throws CodedError `GW_ERR_PORT_IN_USE` when the port is taken (by another process, or another
 *   member's metrics: the code every HTTP listener uses for it); `OPT_ERR_INVALID` when the
 *   address cannot be bound otherwise (not this machine's, a privileged port).
 */
export async function startMetricsServer(registry: Registry, host: string, port: number, logger: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => {
        logger.error({ err }, 'cannot collect metrics');
        res.writeHead(500, { 'content-type': 'text/plain' }).end('cannot collect metrics\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new CodedError(ErrorCodes.GW_ERR_PORT_IN_USE, `cannot serve metrics on ${host}:${port}: the port is in use`, { cause: err })
          : new CodedError(ErrorCodes.OPT_ERR_INVALID, `cannot serve metrics on ${host}:${port}: ${err.message}`, { cause: err }),
      );
    });
    server.listen({ host, port, exclusive: true }, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
