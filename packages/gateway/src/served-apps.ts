import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { CodedError, ErrorCodes } from '@gos/schema';
import { listenError, listenNow } from './listen.js';
import { checkTlsFiles, sslAppOptions, type CertificateSummary, type ResolvedGatewayTls } from './tls.js';
import { loadUws, type UwsModule } from './uws.js';

/** Counts the WebSockets open on one app: its ws `open` and `close` handlers call these. */
export interface SocketCount {
  opened(): void;
  closed(): void;
}

interface Served extends SocketCount {
  readonly app: TemplatedApp;
  listen: us_listen_socket | null;
  sockets: number;
  closeTimer: ReturnType<typeof setTimeout> | null;
}

export interface ServedAppsOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tls: ResolvedGatewayTls | null;
  /** Register the routes on a new app; its ws `open` and `close` handlers report to `sockets`. */
  readonly routes: (app: TemplatedApp, sockets: SocketCount) => void;
  /**
   * An app that no longer listens is closed once its last WebSocket is gone and this long has
   * passed: HTTP requests begun on it (keep-alive connections) finish first. @default 30000
   */
  readonly retiredGraceMs?: number;
}
/** Tries at holding a port the kernel chose (port 0) by its number; another process may take it in between. */
const PORT_ZERO_TRIES = 3;

/**
 * The uWS apps a gateway serves from. Plain: one `App` for its lifetime. TLS: uWS cannot change
 * the certificate of a running `SSLApp`, so a reload makes a new `SSLApp` with the files as they
 * are now, stops the old app listening and listens with the new one on the same port, in one
 * turn. Open sockets stay on the old app, with the old certificate, until they close; then the
 * old app is closed. Broadcasts go to every app that holds sockets.
 */
export class ServedApps {
  readonly #o: ServedAppsOptions;
  #current: Served | null = null;
  readonly #retired = new Set<Served>();
  #port = 0;
  #stopped = false;
  #reloads: Promise<unknown> = Promise.resolve();
  /** The uWebSockets.js build loaded for this thread (docs/platforms.md). */
  readonly #uWS: UwsModule = loadUws().uWS;

  constructor(options: ServedAppsOptions) {
    this.#o = options;
  }

  /** The port listened on (the one chosen when `port` was 0); 0 before `listen()`. */
  get port(): number {
    return this.#port;
  }

  /** Apps that stopped listening and still hold sockets (or wait out their grace). */
  get retired(): number {
    return this.#retired.size;
  }

  /**
   * Make the first app and listen. Returns the certificate served, or null without TLS.
   * @throws CodedError `GW_ERR_TLS` (files unusable), `GW_ERR_PORT_IN_USE`, `GW_ERR_INTERNAL`.
   */
  async listen(): Promise<CertificateSummary | null> {
    const certificate = this.#o.tls === null ? null : checkTlsFiles(this.#o.tls);
    const served = this.#create();
    try {
      await this.#listenFirst(served);
    } catch (err) {
      closeApp(served.app);
      throw err;
    }
    this.#current = served;
    return certificate;
  }

  async #listenFirst(served: Served): Promise<void> {
    const { host, port, tls } = this.#o;
    if (port !== 0 || tls === null) {
      served.listen = listenNow(served.app, host, port) || null;
      if (served.listen === null) throw await listenError(host, port);
      this.#port = this.#uWS.us_socket_local_port(served.listen);
      return;
    }
    // uWS sets SO_REUSEADDR only when it is given a port number, and without it a reload could
    // not listen again while the sockets accepted on the port are open: take a free port, then
    // listen on it by number.
    for (let attempt = 1; ; attempt++) {
      const probe = listenNow(served.app, host, 0);
      if (probe === false) throw await listenError(host, 0);
      const chosen = this.#uWS.us_socket_local_port(probe);
      this.#uWS.us_listen_socket_close(probe);
      served.listen = listenNow(served.app, host, chosen) || null;
      if (served.listen !== null) {
        this.#port = chosen;
        return;
      }
      if (attempt === PORT_ZERO_TRIES) throw await listenError(host, chosen);
    }
  }

  /**
   * Serve new connections with the certificate files as they are now (see the class). Reloads
   * run one at a time. Returns the new certificate; null without TLS or when not listening.
   * @throws CodedError `GW_ERR_TLS` when the files cannot be used: the previous certificate
   *   stays in use. `GW_ERR_PORT_IN_USE`/`GW_ERR_INTERNAL` if another process took the port in
   *   the instant it was free (the previous app listens again when it can).
   */
  reload(): Promise<CertificateSummary | null> {
    const next = this.#reloads.then(() => this.#reload());
    this.#reloads = next.catch(() => undefined);
    return next;
  }

  async #reload(): Promise<CertificateSummary | null> {
    const current = this.#current;
    const tls = this.#o.tls;
    if (tls === null || current === null || current.listen === null || this.#stopped) return null;
    const certificate = checkTlsFiles(tls);
    const next = this.#create();
    const { host } = this.#o;
    // Nothing else runs between closing the old listen socket and listening with the new app;
    // a connection that arrives in that instant is refused, and its client retries.
    this.#uWS.us_listen_socket_close(current.listen);
    current.listen = null;
    next.listen = listenNow(next.app, host, this.#port) || null;
    if (next.listen === null) {
      closeApp(next.app);
      current.listen = listenNow(current.app, host, this.#port) || null;
      const err = await listenError(host, this.#port);
      throw new CodedError(
        err.code,
        `${err.message} while switching to the new certificate; ${current.listen === null ? 'the gateway no longer accepts connections' : 'still serving the previous one'}`,
      );
    }
    this.#current = next;
    this.#retire(current);
    return certificate;
  }

  /** Publish to every app's subscribers (a reload leaves sockets on older apps). */
  publish(topic: string, message: Uint8Array): void {
    this.#current?.app.publish(topic, message, true, false);
    for (const served of this.#retired) if (served.sockets > 0) served.app.publish(topic, message, true, false);
  }

  /** Sockets subscribed to `topic`, on every app. */
  subscribers(topic: string): number {
    let n = this.#current?.app.numSubscribers(topic) ?? 0;
    for (const served of this.#retired) if (served.sockets > 0) n += served.app.numSubscribers(topic);
    return n;
  }

  /** Stop accepting connections; open sockets stay (the gateway ends them). Idempotent. */
  stopListening(): void {
    this.#stopped = true;
    const current = this.#current;
    if (current?.listen != null) this.#uWS.us_listen_socket_close(current.listen);
    if (current !== null) current.listen = null;
    for (const served of this.#retired) if (served.closeTimer !== null) clearTimeout(served.closeTimer);
    this.#retired.clear();
  }

  #create(): Served {
    const tls = this.#o.tls;
    let app: TemplatedApp;
    try {
      app = tls === null ? this.#uWS.App() : this.#uWS.SSLApp(sslAppOptions(tls));
    } catch (err) {
      // Files checked a moment ago: changed in between, or a format OpenSSL reads and uWS does not.
      throw new CodedError(ErrorCodes.GW_ERR_TLS, `uWebSockets.js cannot load the certificate ${tls?.certFile} with the key ${tls?.keyFile}`, { cause: err });
    }
    const served: Served = {
      app,
      listen: null,
      sockets: 0,
      closeTimer: null,
      opened: () => {
        served.sockets++;
        // A keep-alive connection of a retired app may still upgrade.
        if (served.closeTimer !== null) clearTimeout(served.closeTimer);
        served.closeTimer = null;
      },
      closed: () => {
        served.sockets--;
        if (served.sockets === 0 && this.#retired.has(served)) this.#closeLater(served);
      },
    };
    this.#o.routes(app, served);
    return served;
  }

  #retire(served: Served): void {
    this.#retired.add(served);
    if (served.sockets === 0) this.#closeLater(served);
  }

  #closeLater(served: Served): void {
    if (this.#stopped) return;
    if (served.closeTimer !== null) clearTimeout(served.closeTimer);
    served.closeTimer = setTimeout(() => {
      served.closeTimer = null;
      if (served.sockets > 0) return;
      this.#retired.delete(served);
      closeApp(served.app);
    }, this.#o.retiredGraceMs ?? 30_000);
    served.closeTimer.unref();
  }
}

/** `app.close()`: closes the app's listen sockets and every socket it holds. The native call has it; the typings lack it. */
function closeApp(app: TemplatedApp): void {
  (app as unknown as { close(): void }).close();
}
