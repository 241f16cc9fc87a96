import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCase, recordFigures } from './report.js';
import { docxBomb, pageWithPastedScreenshot, pdfBomb } from '../support/hostile-documents.js';
import { startScenario, startWorld, type World } from '../support/world.js';

const trainee = 7601;
let world: World;
let kbDir: string;

/** The peak resident memory of a process, from /proc (VmHWM), in MB. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

beforeAll(async () => {
  kbDir = await mkdtemp(path.join(tmpdir(), 'hostile-kb-'));
  await cp('knowledge_base', kbDir, { recursive: true });
  await writeFile(path.join(kbDir, 'прайс-бомба.docx'), docxBomb(100));
  await writeFile(path.join(kbDir, 'регламент-бомба.pdf'), pdfBomb(100));
  await writeFile(path.join(kbDir, 'выгрузка.txt'), Buffer.alloc(50 * 1024 * 1024, 'а'));
  await writeFile(path.join(kbDir, 'как-выставить-счёт.md'), pageWithPastedScreenshot());
  world = await startWorld({ trainees: [trainee] });
  await world.restartBot('SIGTERM', { KNOWLEDGE_BASE_DIR: kbDir });
}, 240_000);

afterAll(async () => {
  await world?.close();
  await rm(kbDir, { recursive: true, force: true });
});

describe('hostile documents in the knowledge base', () => {
  it('never hold up polling or take the bot down; each is named as skipped, with why', async (context) => {
    recordCase(context, {
      area: 'hostile input',
      case: 'hostile documents in the knowledge base',
      action:
        'the bot starts with a 350 KB DOCX and a 300 KB PDF that inflate to 100 MB each, a 50 MB text file and a page with a 1.5 MB pasted base64 screenshot beside the sample documents',
      traineeSaw: 'nothing unusual: the bot polls at once and answers',
      checked:
        'polling starts before indexing ends; each hostile file named as skipped with its reason; the bot stays up; peak memory',
    });
    const output = world.bot.output();
    const lines = output.split('\n');
    const polling = lines.findIndex((line) => line.includes('"msg":"bot is polling for updates"'));
    const indexed = lines.findIndex((line) => line.includes('"msg":"knowledge base indexed"'));
    expect(polling).toBeGreaterThan(-1);
    expect(indexed).toBeGreaterThan(polling);
    const summary = JSON.parse(lines[indexed]!) as { failed: Array<{ file: string; reason: string }>; added: number };
    const reasons = Object.fromEntries(summary.failed.map((f) => [f.file, f.reason]));
    expect(reasons['прайс-бомба.docx']).toContain('zip-бомбу');
    expect(reasons['регламент-бомба.pdf']).toMatch(/памяти|не закончился/);
    expect(reasons['выгрузка.txt']).toContain('KB_MAX_FILE_MB');
    expect(summary.added).toBe(1); // the page with the screenshot, without it
    expect(world.bot.child.exitCode).toBeNull();
    // Before: 1.9–2.2 GB for the PDF alone, and an out-of-memory exit for the DOCX. The PDF's thread may take 512 MB.
    const peak = await peakRssMb(world.bot.child.pid!);
    recordFigures(context, { 'peak RSS MB': Math.round(peak), 'log lines from polling to indexed': indexed - polling });
    expect(peak).toBeLessThan(1_400);
  });

  it('keep /hint short enough for Telegram: no chunk is a pasted screenshot', async (context) => {
    recordCase(context, {
      area: 'hostile input',
      case: 'a pasted screenshot in a page',
      action: 'a trainee asks about the page with the 1.5 MB base64 image, then sends /hint',
      traineeSaw: 'a short hint from the knowledge base',
      checked: 'the hint is under 4096 characters; the client prompt carries no base64 run and stays under 30 000 characters',
    });
    const user = world.telegram.user(trainee, { firstName: 'Анна' });
    await startScenario(user);
    user.sendText('Как выставить счёт? Нажмите «Создать счёт»');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));
    user.sendText('/hint');
    const hint = await user.waitForMessage((m) => m.text.startsWith('💡 Подсказка') || m.text.includes('не нашлось'));
    expect(hint.text.length).toBeLessThan(4096);
    const system = world.openai.requests.filter((r) => r.stream).at(-1)!.messages[0]!;
    recordFigures(context, { 'hint characters': hint.text.length, 'client prompt characters': String(system.content).length });
    expect(String(system.content).length).toBeLessThan(30_000);
    expect(String(system.content)).not.toMatch(/[A-Za-z0-9+/]{2000}/);
  });
});
