import { parentPort } from 'node:worker_threads';
import type { TopLevelSpec } from 'vega-lite';
import { renderChartPng } from './render.js';

/** What the chart thread is asked and answers: one picture per request, matched by id. */
export interface ChartRequest {
  readonly id: number;
  readonly spec: TopLevelSpec;
}
export type ChartReply =
  | { readonly id: number; readonly ok: true; readonly png: Uint8Array }
  | { readonly id: number; readonly ok: false; readonly reason: string };

const port = parentPort;
if (!port) throw new Error('chart-worker runs as a worker thread');
port.on('message', (request: ChartRequest) => {
  renderChartPng(request.spec).then(
    (png) => port.postMessage({ id: request.id, ok: true, png } satisfies ChartReply),
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        ok: false,
        reason: error instanceof Error ? error.message : String(error),
      } satisfies ChartReply),
  );
});
