import type { HttpResponse } from 'uWebSockets.js';
import { CodedError, ErrorCodes } from '@gos/schema';

/** Statuses by code for the HTTP API's error bodies. */
const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export interface ResponseState {
  aborted: boolean;
}

/** Register the abort handler uWS requires before any async work, and return its flag. */
export function track(res: HttpResponse): ResponseState {
  const state = { aborted: false };
  res.onAborted(() => {
    state.aborted = true;
  });
  return state;
}

export function sendJson(res: HttpResponse, state: ResponseState, status: number, body: unknown): void {
  if (state.aborted) return;
  res.cork(() => {
    res
      .writeStatus(STATUS_TEXT[status] ?? `${status} Unknown`)
      .writeHeader('content-type', 'application/json')
      .writeHeader('cache-control', 'no-store')
      .end(JSON.stringify(body));
  });
}

export function sendError(res: HttpResponse, state: ResponseState, status: number, code: string, message: string): void {
  sendJson(res, state, status, { code, message });
}

/** `application/json`, with or without parameters (`; charset=utf-8`), in any case. */
export function isJsonContentType(contentType: string): boolean {
  return contentType.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/**
 * Read and parse a JSON object body of at most `maxBytes`; null when there is no body.
 * `contentType` is the request's header (read in the route handler, while uWS's request is
 * valid). Rejects with GW_ERR_BODY_TOO_LARGE, GW_ERR_UNSUPPORTED_MEDIA_TYPE (a body that is not
 * `application/json`) or GW_ERR_BAD_REQUEST; the caller turns those into 413, 415 and 400.
 */
export function readJsonBody(res: HttpResponse, state: ResponseState, maxBytes: number, contentType: string): Promise<Record<string, unknown> | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        done = true;
        reject(new CodedError(ErrorCodes.GW_ERR_BODY_TOO_LARGE, `body larger than ${maxBytes} bytes`));
        return;
      }
      // uWS reuses the chunk's memory after this callback returns: copy it.
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      done = true;
      if (state.aborted) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text === '') {
        resolve(null);
        return;
      }
      if (!isJsonContentType(contentType)) {
        const why = contentType === '' ? 'a body needs Content-Type: application/json' : `body must be application/json, not ${JSON.stringify(contentType)}`;
        reject(new CodedError(ErrorCodes.GW_ERR_UNSUPPORTED_MEDIA_TYPE, why));
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        reject(new CodedError(ErrorCodes.GW_ERR_BAD_REQUEST, 'body is not valid JSON', { cause: err }));
        return;
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        reject(new CodedError(ErrorCodes.GW_ERR_BAD_REQUEST, 'body must be a JSON object'));
        return;
      }
      resolve(parsed as Record<string, unknown>);
    });
  });
}
