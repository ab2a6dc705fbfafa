import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ErrorCodes, isCodedError, type Logger } from '@gos/schema';
import type { Registry } from 'prom-client';
import { internalError, type AuthService, type HttpOutcome } from './auth.js';
import { readJsonBody, sendError, sendJson, track } from './http.js';
import type { RateLimits } from './rate-limits.js';
import type { StaticFile } from './static-files.js';

const decoder = new TextDecoder();

/** What the gateway's HTTP routes read from it. */
export interface HttpRoutesDeps {
  readonly gatewayId: string;
  /** The gateway's state: the auth API answers only when `ready`. */
  state(): string;
  connections(): number;
  readonly metrics: Registry;
  readonly auth: AuthService;
  readonly limits: RateLimits;
  readonly maxHttpBodyBytes: number;
  staticFile(url: string): StaticFile | undefined;
  readonly logger: Logger;
}

/** `GET /metrics`, `GET /healthz` and the auth API (`POST /v1/auth/register|login|guest`). */
export function registerApiRoutes(app: TemplatedApp, deps: HttpRoutesDeps): void {
  app.get('/metrics', (res) => {
    const state = track(res);
    deps.metrics.metrics().then(
      (text) => {
        if (state.aborted) return;
        res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', deps.metrics.contentType).end(text));
      },
      (err: unknown) => {
        deps.logger.error({ err }, 'cannot collect metrics');
        sendError(res, state, 500, ErrorCodes.GW_ERR_INTERNAL, 'cannot collect metrics');
      },
    );
  });
  app.get('/healthz', (res) => {
    const state = track(res);
    if (deps.state() === 'ready') sendJson(res, state, 200, { status: 'ok', gatewayId: deps.gatewayId, connections: deps.connections() });
    else sendJson(res, state, 503, { status: deps.state() });
  });
  app.post('/v1/auth/register', (res, req) => api(deps, res, req, (body) => deps.auth.register(body)));
  app.post('/v1/auth/login', (res, req) => api(deps, res, req, (body) => deps.auth.login(body)));
  app.post('/v1/auth/guest', (res, req) => api(deps, res, req, () => deps.auth.guest()));
}

/** The static files (the demo's web client) and 404 for anything else: registered last. */
export function registerStaticRoutes(app: TemplatedApp, deps: HttpRoutesDeps): void {
  app.any('/*', (res, req) => {
    const state = track(res);
    const method = req.getMethod();
    const file = method === 'get' ? deps.staticFile(req.getUrl()) : undefined;
    if (file === undefined) {
      sendError(res, state, 404, ErrorCodes.GW_ERR_NOT_FOUND, 'not found');
      return;
    }
    res.cork(() => {
      res.writeStatus('200 OK').writeHeader('content-type', file.type).writeHeader('cache-control', 'no-cache').end(file.body);
    });
  });
}

/** One auth API request: state, per-address limit, JSON body, then the coded answer. */
function api(deps: HttpRoutesDeps, res: HttpResponse, req: HttpRequest, handle: (body: Record<string, unknown> | null) => Promise<HttpOutcome>): void {
  const state = track(res);
  const contentType = req.getHeader('content-type');
  if (deps.state() !== 'ready') {
    sendError(res, state, 503, ErrorCodes.GW_ERR_INTERNAL, 'gateway is not ready');
    return;
  }
  if (!deps.limits.allowAuth(decoder.decode(res.getRemoteAddressAsText()), performance.now())) {
    sendError(res, state, 429, ErrorCodes.GW_ERR_RATE_LIMITED, 'too many auth requests from this address');
    return;
  }
  readJsonBody(res, state, deps.maxHttpBodyBytes, contentType)
    .then(handle)
    .then(
      (outcome) => sendJson(res, state, outcome.status, outcome.body),
      (err: unknown) => {
        if (isCodedError(err) && err.code === ErrorCodes.GW_ERR_BODY_TOO_LARGE) return sendError(res, state, 413, err.code, err.message);
        if (isCodedError(err) && err.code === ErrorCodes.GW_ERR_UNSUPPORTED_MEDIA_TYPE) return sendError(res, state, 415, err.code, err.message);
        if (isCodedError(err) && err.code === ErrorCodes.GW_ERR_BAD_REQUEST) return sendError(res, state, 400, err.code, err.message);
        if (isCodedError(err) && err.code === ErrorCodes.GW_ERR_RATE_LIMITED) return sendError(res, state, 429, err.code, err.message);
        // A backend that is down (Redis, the database): worth retrying in a moment.
        if (isCodedError(err) && (err.code === ErrorCodes.GW_ERR_SESSION_STORE || err.code === ErrorCodes.STO_ERR_CONNECTION)) {
          deps.logger.warn({ code: err.code, err }, 'auth request failed: backend unavailable');
          return sendError(res, state, 503, err.code, err.code === ErrorCodes.GW_ERR_SESSION_STORE ? 'session store unavailable; retry shortly' : 'account store unavailable; retry shortly');
        }
        const wrapped = internalError(err);
        deps.logger.error({ err }, 'auth request failed');
        sendError(res, state, 500, wrapped.code === ErrorCodes.GW_ERR_INTERNAL ? wrapped.code : ErrorCodes.GW_ERR_INTERNAL, 'internal error');
      },
    );
}
