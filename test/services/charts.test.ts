import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../support/database.js';
import { ChartRenderer } from '../../src/services/charts/index.js';
import { renderChartPng } from '../../src/services/charts/render.js';
import { sampleProgress, sampleTeam } from './charts.samples.js';

const renderer = new ChartRenderer(silentLogger);
afterAll(() => renderer.close());

function decode(png: Buffer): PNG {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return PNG.sync.read(png);
}

/** How much the picture varies: a blank (one-colour) image has none. */
function distinctColours(image: PNG): number {
  const colours = new Set<number>();
  for (let i = 0; i < image.data.length; i += 4) colours.add(image.data.readUInt32BE(i));
  return colours.size;
}

function darkPixels(image: PNG): number {
  let dark = 0;
  for (let i = 0; i < image.data.length; i += 4) if (image.data[i]! + image.data[i + 1]! + image.data[i + 2]! < 300) dark++;
  return dark;
}

/** A picture of nothing but one line of text, to see whether its glyphs are drawn. */
function textOnly(text: string) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 300,
    height: 60,
    config: { font: 'DejaVu Sans', view: { stroke: null } },
    data: { values: [{}] },
    mark: { type: 'text', fontSize: 30, color: 'black' },
    encoding: { text: { value: text } },
  } as const;
}

describe('charts', () => {
  it('draws a trainee’s progress: a sharp picture, not blank', async () => {
    const image = decode(await renderer.progress(sampleProgress));

    expect(image.width).toBeGreaterThanOrEqual(1000);
    expect(image.height).toBeGreaterThanOrEqual(800);
    expect(distinctColours(image)).toBeGreaterThan(50);
    expect(darkPixels(image)).toBeGreaterThan(2000);
  });

  it('draws the team’s averages per criterion', async () => {
    const image = decode(await renderer.team(sampleTeam));

    expect(image.width).toBeGreaterThanOrEqual(1000);
    expect(image.height).toBeGreaterThanOrEqual(300);
    expect(distinctColours(image)).toBeGreaterThan(20);
  });

  it('draws Cyrillic glyphs with the bundled font (no system font is looked at)', async () => {
    const blank = decode(await renderChartPng(textOnly('')));
    const cyrillic = decode(await renderChartPng(textOnly('Жёлтый щит')));

    expect(darkPixels(blank)).toBe(0);
    // Ten letters at 30 px, at twice the size: thousands of dark pixels. A missing font draws none.
    expect(darkPixels(cyrillic)).toBeGreaterThan(1500);
  });

  it('keeps rendering off the main thread: the event loop stays free while pictures are drawn', async () => {
    let longestGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    await renderer.progress(sampleProgress); // the thread is warm: what follows is rendering alone
    last = performance.now();
    longestGap = 0;
    const started = performance.now();
    await Promise.all([1, 2, 3, 4].map(() => renderer.progress(sampleProgress)));
    const elapsed = performance.now() - started;
    clearInterval(ticker);

    expect(elapsed).toBeGreaterThan(50);
    expect(longestGap).toBeLessThan(elapsed / 2);
  });
});
