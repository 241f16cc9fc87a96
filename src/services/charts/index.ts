import { Worker } from 'node:worker_threads';
import type { TopLevelSpec } from 'vega-lite';
import type { Logger } from '../../logger.js';
import type { ChartReply, ChartRequest } from './chart-worker.js';
import { progressSpec, teamSpec, type ProgressChart, type TeamChart } from './specs.js';

export type { CriterionAverage, CriterionPoint, ProgressChart, ProgressPoint, TeamChart } from './specs.js';

/** The pictures /stats and /team send, as PNG. */
export interface ChartService {
  /** A trainee's scores over time and latest score per criterion, against the pass mark. */
  progress(chart: ProgressChart): Promise<Buffer>;
  /** The team's average per criterion, against the pass mark. */
  team(chart: TeamChart): Promise<Buffer>;
  close(): Promise<void>;
}

export class ChartRenderError extends Error {
  override readonly name = 'ChartRenderError';
}

/** A picture that takes longer than this is given up (the caller then answers in text). */
const renderTimeoutMs = 20_000;

function workerEntry(): { file: URL; workerData: Record<string, unknown> } {
  // From source (tsx) the thread needs the bootstrap that registers tsx in it.
  if (import.meta.url.endsWith('.ts')) {
    return {
      file: new URL('../../worker-bootstrap.mjs', import.meta.url),
      workerData: { entry: new URL('./chart-worker.ts', import.meta.url).href },
    };
  }
  return { file: new URL('./chart-worker.js', import.meta.url), workerData: {} };
}

interface Pending {
  readonly resolve: (png: Buffer) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Renders charts in a thread of its own (Vega → SVG → resvg takes 30–100 ms a picture, which would
 * stall every other chat's turn on the main thread). The thread starts with the first picture and
 * is started again after a crash; requests are answered by id.
 */
export class ChartRenderer implements ChartService {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly logger: Logger) {}

  progress(chart: ProgressChart): Promise<Buffer> {
    return this.render(progressSpec(chart));
  }

  team(chart: TeamChart): Promise<Buffer> {
    return this.render(teamSpec(chart));
  }

  /** Renders one Vega-Lite spec to PNG in the chart thread. */
  render(spec: TopLevelSpec): Promise<Buffer> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ChartRenderError(`chart not rendered in ${renderTimeoutMs} ms`));
      }, renderTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ id, spec } satisfies ChartRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new ChartRenderError('the chart renderer was closed'));
    if (worker) await worker.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const entry = workerEntry();
    const worker = new Worker(entry.file, {
      workerData: entry.workerData,
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    // An idle chart thread must not keep the process alive at shutdown.
    worker.unref();
    worker.on('message', (reply: ChartReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      clearTimeout(waiting.timer);
      if (reply.ok) waiting.resolve(Buffer.from(reply.png));
      else waiting.reject(new ChartRenderError(reply.reason));
    });
    worker.on('error', (error) => {
      this.logger.error({ err: error }, 'chart thread failed');
      this.failAll(new ChartRenderError(`the chart thread failed: ${error.message}`, { cause: error }));
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new ChartRenderError('the chart thread exited'));
    });
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const [id, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
      this.pending.delete(id);
    }
  }
}
