import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * The one font every picture is drawn with: DejaVu Sans from the `dejavu-fonts-ttf` package (a free
 * licence that allows bundling), with Cyrillic. System fonts are never looked at: a picture looks
 * the same on a laptop and in the container, and a missing font fails a test instead of drawing boxes.
 */
export const chartFontFamily = 'DejaVu Sans';
const require = createRequire(import.meta.url);
export const chartFontFiles: readonly string[] = [
  require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
];

/** Pixels per chart unit: a phone shows the picture sharp at twice the layout size. */
const scale = 2;

/** A Vega-Lite chart as SVG (text left as text: resvg draws it with the bundled font). */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG(scale);
  } finally {
    view.finalize();
  }
}

/** A Vega-Lite chart as a PNG on white. Synchronous work of tens of milliseconds: run it in the chart thread. */
export async function renderChartPng(spec: TopLevelSpec): Promise<Buffer> {
  const svg = await chartSvg(spec);
  const resvg = new Resvg(svg, {
    background: 'white',
    font: { fontFiles: [...chartFontFiles], loadSystemFonts: false, defaultFontFamily: chartFontFamily },
  });
  return resvg.render().asPng();
}
