/**
 * The share of client frames a project server forwarded to its engines over TCP rather than
 * in-process, read from the gateway's `gos_gateway_frames_forwarded_total{transport}` counter
 * (its Prometheus endpoint, `GET /metrics` on the HTTP port).
 */

/** The counter's value for `transport` in a Prometheus text exposition, or 0 when absent. */
export function forwardedFrames(text: string, transport: 'tcp' | 'in-process'): number {
  const prefix = `gos_gateway_frames_forwarded_total{transport="${transport}"} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  const value = line === undefined ? 0 : Number(line.slice(prefix.length).trim().split(' ')[0]);
  return Number.isFinite(value) ? value : 0;
}

/** TCP ÷ all forwarded frames, 0–1; null when nothing was forwarded. */
export function tcpShare(text: string): number | null {
  const tcp = forwardedFrames(text, 'tcp');
  const total = tcp + forwardedFrames(text, 'in-process');
  return total === 0 ? null : tcp / total;
}

/** Scrape `baseUrl/metrics` and return the TCP share (null: nothing forwarded, or no answer). */
export async function scrapeTcpShare(baseUrl: string): Promise<number | null> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? tcpShare(await res.text()) : null;
  } catch {
    return null;
  }
}
