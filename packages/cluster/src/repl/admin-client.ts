/**
 * The REPL's connection to one engine (docs/repl.md): a link client with the cluster secret
 * (and the cluster CA over TLS, when the links use it) that sends each command with the
 * operator's admin credential and waits for its answer on the same channel.
 */
import { CodedError, ErrorCodes } from '@gos/schema';
import { AdminToEngine, EngineToAdmin, LinkClient, decodeAnswerBody, encodeAdminBody, type LinkTlsOptions } from '@gos/link';

export interface AdminClientOptions {
  /** The engine's link address, `host:port`. */
  readonly address: string;
  readonly engineId: string;
  readonly clusterSecret: string;
  readonly tls: LinkTlsOptions | null;
  readonly user: string;
  readonly secret: string;
  /** Started with --write: eval is allowed. */
  readonly write: boolean;
  /** How long a command waits for its answer. @default 15000 */
  readonly timeoutMs?: number;
}

export class AdminClient {
  readonly #o: AdminClientOptions;
  readonly #link: LinkClient;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  #next = 1;

  constructor(o: AdminClientOptions) {
    this.#o = o;
    const colon = o.address.lastIndexOf(':');
    const port = Number(o.address.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port <= 0) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `engine address must be host:port, got ${o.address}`);
    this.#link = new LinkClient({
      nodeId: `repl:${o.user}:${process.pid}`,
      secret: o.clusterSecret,
      host: o.address.slice(0, colon),
      port,
      expectedPeerId: o.engineId,
      ...(o.tls === null ? {} : { tls: o.tls }),
    });
    this.#link.on('message', (type: number, channel: number, body: Uint8Array) => {
      if (type !== EngineToAdmin.ANSWER) return;
      const waiting = this.#waiting.get(channel);
      if (waiting === undefined) return;
      this.#waiting.delete(channel);
      clearTimeout(waiting.timer);
      try {
        const a = decodeAnswerBody(body);
        if (a.ok) waiting.resolve(JSON.parse(a.result) as unknown);
        else waiting.reject(new CodedError(a.code, a.message));
      } catch (err) {
        waiting.reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    this.#link.on('down', () => {
      for (const [id, w] of this.#waiting) {
        this.#waiting.delete(id);
        clearTimeout(w.timer);
        w.reject(new CodedError(ErrorCodes.LNK_ERR_CLOSED, `the link to ${o.engineId} went down`));
      }
    });
  }

  /** Connect, then say hello (the credential is checked there). @throws CodedError */
  async connect(timeoutMs = 10_000): Promise<{ engineId: string; write: boolean }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#link.once('up', () => resolve());
          void this.#link.start();
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CodedError(ErrorCodes.LNK_ERR_NOT_CONNECTED, `no link to engine ${this.#o.engineId} at ${this.#o.address} within ${timeoutMs / 1000} s`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    return (await this.command('hello', [])) as { engineId: string; write: boolean };
  }

  command(command: string, args: readonly unknown[]): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new CodedError(ErrorCodes.ENG_ERR_CALL_TIMEOUT, `no answer to ${command} within ${(this.#o.timeoutMs ?? 15_000) / 1000} s`));
      }, this.#o.timeoutMs ?? 15_000);
      this.#waiting.set(id, { resolve, reject, timer });
      try {
        this.#link.send(AdminToEngine.COMMAND, id, encodeAdminBody({ user: this.#o.user, secret: this.#o.secret, command, args: JSON.stringify(args), write: this.#o.write }));
      } catch (err) {
        this.#waiting.delete(id);
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  close(): Promise<void> {
    return this.#link.close();
  }
}
