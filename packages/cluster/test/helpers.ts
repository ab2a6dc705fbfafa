import { createServer, type Server, type Socket } from 'node:net';
import type { LogFn, Logger } from '@gos/schema';

export interface LogEntry {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly msg: string | undefined;
}

/** A logger that records everything (bindings merged into each entry). */
export function captureLogger(): Logger & { readonly entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const fn =
      (level: string): LogFn =>
      (objOrMsg: object | string, msg?: string) => {
        if (typeof objOrMsg === 'string') entries.push({ level, fields: { ...bindings }, msg: objOrMsg });
        else entries.push({ level, fields: { ...bindings, ...(objOrMsg as Record<string, unknown>) }, msg });
      };
    return { trace: fn('trace'), debug: fn('debug'), info: fn('info'), warn: fn('warn'), error: fn('error'), fatal: fn('fatal'), child: (more) => make({ ...bindings, ...more }) };
  };
  return Object.assign(make({}), { entries });
}

/** Listen on 127.0.0.1 (port 0: any free one); resolve with the server and its port. */
export async function listen(server: Server, port = 0): Promise<{ server: Server; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as { port: number }).port };
}

/** A port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const { server, port } = await listen(createServer());
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP server on 127.0.0.1 that tracks its sockets, so `close()` ends them all. */
export async function tcpServer(onSocket: (socket: Socket) => void, port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const { server, port: bound } = await listen(
    createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      onSocket(socket);
    }),
    port,
  );
  return {
    port: bound,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
