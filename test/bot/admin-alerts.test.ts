import type { Context } from 'grammy';
import { Api } from 'grammy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertAdmins } from '../../src/bot/admin-alerts.js';
import { createI18n } from '../../src/bot/i18n.js';
import { getOrCreateUser } from '../../src/db/queries/users.js';
import { asTelegramId } from '../../src/db/ids.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../support/database.js';
import { TelegramFake } from '../support/telegram-fake.js';

let telegram: TelegramFake;
let database: TestDatabase;

beforeAll(async () => {
  [telegram, database] = await Promise.all([TelegramFake.start(), createTestDatabase()]);
});
afterAll(async () => {
  await Promise.all([telegram?.stop(), database?.drop()]);
});

const russianAdmin = 7_501;
const englishAdmin = 7_502;
const silentAdmin = 7_503; // never wrote to the bot: the default language

describe('alerts about the managers’ sheet', () => {
  it('reach each admin in the language of their Telegram', async () => {
    await getOrCreateUser(database.db, { telegramId: asTelegramId(russianAdmin), languageCode: 'ru' }, 'admin');
    await getOrCreateUser(database.db, { telegramId: asTelegramId(englishAdmin), languageCode: 'en-GB' }, 'admin');
    // Each admin has opened the chat with the bot (a bot cannot write first).
    for (const id of [russianAdmin, englishAdmin, silentAdmin]) telegram.user(id);
    const deps = {
      api: new Api(telegram.token, { apiRoot: telegram.apiRoot }),
      db: database.db,
      i18n: createI18n<Context>('ru'),
      adminUserIds: [russianAdmin, englishAdmin, silentAdmin],
      defaultLocale: 'ru' as const,
      logger: silentLogger,
    };

    await alertAdmins(deps, { kind: 'stopped', problem: { kind: 'no-access', account: 'bot@project.iam.gserviceaccount.com' } });
    await alertAdmins(deps, { kind: 'resumed' });

    const texts = (id: number) =>
      telegram
        .user(id)
        .messages()
        .map((m) => m.text);
    expect(texts(englishAdmin)).toEqual([
      'Exporting results to the Google Sheet has stopped: bot@project.iam.gserviceaccount.com may not write to the spreadsheet. Open the spreadsheet → Share and add bot@project.iam.gserviceaccount.com as an editor.\nNo results are lost: they wait in the queue and are exported by themselves once this is fixed.',
      'Exporting to the Google Sheet works again: the queued results are exported or on their way.',
    ]);
    const russian = [
      'Выгрузка результатов в Google-таблицу остановлена: у bot@project.iam.gserviceaccount.com нет права на запись в таблицу. Откройте таблицу → «Настройки доступа» и добавьте bot@project.iam.gserviceaccount.com как редактора.\nРезультаты не потеряны: они ждут в очереди и выгрузятся сами, как только это будет исправлено.',
      'Выгрузка в Google-таблицу снова работает: результаты из очереди выгружены или выгружаются.',
    ];
    expect(texts(russianAdmin)).toEqual(russian);
    expect(texts(silentAdmin)).toEqual(russian);
  });
});
