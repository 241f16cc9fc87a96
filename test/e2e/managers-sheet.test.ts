import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBotProcess, type BotProcess } from '../support/bot-process.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startKnowledgeInfra, type KnowledgeInfra } from '../support/knowledge-infra.js';
import { scriptedModel } from '../support/model-script.js';
import { OpenAiFake } from '../support/openai-fake.js';
import { SheetsFake, writeServiceAccountKey } from '../support/sheets-fake.js';
import { TelegramFake } from '../support/telegram-fake.js';

const token = '123456789:AAFakeTokenForTestsOnly_0123456789';
const admin = 7401;
let telegram: TelegramFake;
let openai: OpenAiFake;
let database: TestDatabase;
let knowledge: KnowledgeInfra;
let sheets: SheetsFake;
let keyDir: string;
let bot: BotProcess;

beforeAll(async () => {
  keyDir = await mkdtemp(path.join(tmpdir(), 'bot-sheets-key-'));
  const account = await writeServiceAccountKey(keyDir);
  [telegram, openai, database, knowledge, sheets] = await Promise.all([
    TelegramFake.start({ token }),
    OpenAiFake.start(),
    createTestDatabase(),
    startKnowledgeInfra(),
    SheetsFake.start({ account }),
  ]);
  openai.respondWith(scriptedModel());
  bot = await startBotProcess(telegram, {
    env: {
      ...knowledge.env,
      OPENAI_API_KEY: openai.apiKey,
      OPENAI_BASE_URL: openai.baseUrl,
      DATABASE_URL: database.url,
      ADMIN_USER_IDS: String(admin),
      GOOGLE_SHEETS_ID: sheets.spreadsheetId,
      GOOGLE_SERVICE_ACCOUNT_FILE: account.file,
      GOOGLE_SHEETS_API_ROOT: sheets.url,
    },
  });
});

afterAll(async () => {
  await bot.stop('SIGTERM');
  await Promise.all([telegram.stop(), openai.stop(), database.drop(), knowledge.dispose(), sheets.close()]);
  await rm(keyDir, { recursive: true, force: true });
});

describe("the managers' sheet", () => {
  it('gets one row per finished session, with the score as a number, right after /finish', async () => {
    const user = telegram.user(admin, { firstName: 'Мария', username: 'maria' });
    user.sendText('/scenarios');
    await user.waitForMessage((m) => m.text.includes('Выберите сценарий'));
    user.pressButton('sc:needs-discovery');
    await user.waitForMessage((m) => m.text.includes('уровень сложности'));
    user.pressButton('sd:needs-discovery:hard');
    await user.waitForMessage((m) => m.text.includes('началась'));
    user.sendText('Расскажите, как у вас устроен учёт заказов?');
    await user.waitForMessage((m) => m.text.startsWith('Клиент отвечает'));
    user.sendText('/finish');
    await user.waitForMessage((m) => /\d+\/100/.test(m.text));

    await telegram.waitUntil(() => (sheets.rows('Результаты').length >= 2 ? true : undefined), 15_000);
    const [header, row] = sheets.rows('Результаты');
    expect(header).toContain('Балл');
    expect(row).toContain(70);
    expect(row).toContain('Выявление потребностей');
    expect(row).toContain('@maria');
    await telegram.waitUntil(() => (sheets.rows('Сотрудники').length >= 2 ? true : undefined), 15_000);
    expect(JSON.stringify(sheets.rows('Сотрудники')[1])).toContain('Мария');
  });
});
