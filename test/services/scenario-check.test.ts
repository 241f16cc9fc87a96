import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkScenario, extractFigures, readKnowledgeBaseText, type Figure } from '../../src/services/scenario-check.js';
import { loadScenarios, type RubricCriterion, type Scenario, type ScenarioCatalog } from '../../src/services/scenarios.js';

let shipped: ScenarioCatalog;
let knowledgeBase: string;

beforeAll(async () => {
  shipped = await loadScenarios('scenarios');
  knowledgeBase = (await readKnowledgeBaseText('knowledge_base')).text;
});

/** The upsell scenario with one more criterion, and the card's facts replaced when given. */
function upsellWith(extra: Partial<RubricCriterion> & Pick<RubricCriterion, 'good'>, known?: readonly string[]): Scenario {
  const upsell = shipped.get('upsell');
  const criterion = { key: 'extra', title: 'Проверочный критерий', weight: 10, ...extra };
  return {
    ...upsell,
    brief: known ? { ...upsell.brief, known: [...known] } : upsell.brief,
    rubric: [...upsell.rubric, criterion],
  };
}

const figures = (text: string) => extractFigures(text).map(({ text, kind, value }: Figure) => ({ text, kind, value }));

describe('the rubric figures of the shipped scenarios', () => {
  it('are all ones the trainee can know: from the client card, from the client, or from the knowledge base', () => {
    for (const scenario of shipped.all) {
      const check = checkScenario(scenario, knowledgeBase);
      expect(check.figures, scenario.key).toBeGreaterThan(10);
      expect(check.flagged, scenario.key).toEqual([]);
    }
  });

  it('the upsell card carries what the rubric expects the manager to open with', () => {
    const card = shipped.get('upsell').brief.known.join('\n');
    expect(card).toContain('9 из 10 пользователей');
    expect(card).toContain('9 600 из 10 000 контактов');
    expect(card).toContain('заняты все 5 автоматизаций');
    expect(card).toContain('«Старт»');
  });

  it('the angry-customer card carries what the credit of 3 000 ₽ is computed from', () => {
    const card = shipped.get('angry-customer').brief.known.join('\n');
    expect(card).toContain('25 пользователей');
    expect(card).toContain('30 000 ₽ в месяц');
    expect(card).toMatch(/вторник, 16:00/);
    expect(card).toMatch(/четверг, 11:00 — обмен восстановлен/);
  });

  it('without its card a scenario would ask for facts the trainee cannot have', () => {
    const upsell = shipped.get('upsell');
    const angry = shipped.get('angry-customer');
    // The timeline of the ticket and the current bill are the company's records: the card has them.
    const bare = (scenario: Scenario): Scenario => ({
      ...scenario,
      brief: { who: scenario.brief.who, company: '—', known: ['—'] },
      persona: { ...scenario.persona, situation: '—' },
    });
    expect(checkScenario(bare(angry), knowledgeBase).flagged.map((f) => f.figure)).toEqual(
      expect.arrayContaining(['вторник', '02:00', '48213', '18:30']),
    );
    expect(checkScenario(bare(upsell), knowledgeBase).flagged.map((f) => f.figure)).toEqual(
      expect.arrayContaining(['6 750', '13']),
    );
  });
});

describe('a rubric figure the trainee cannot know', () => {
  it('is flagged with the figure, the criterion and the sentence it stands in', () => {
    const scenario = upsellWith({ good: 'Называет цену модуля. Скидка на первый месяц — 4 321 ₽. Не давит.' });

    expect(checkScenario(scenario, knowledgeBase).flagged).toEqual([
      {
        figure: '4 321',
        criterion: 'extra',
        criterionTitle: 'Проверочный критерий',
        field: 'good',
        sentence: 'Скидка на первый месяц — 4 321 ₽.',
      },
    ]);
  });

  it('is flagged in an anchor too, named by its score', () => {
    const scenario = upsellWith({
      good: 'Называет цену модуля.',
      anchors: { 0: 'Не называет цену.', 50: 'Называет неверную.', 80: 'Называет 7 777 ₽ без периода.', 100: 'Называет верную.' },
    });

    const flagged = checkScenario(scenario, knowledgeBase).flagged;
    expect(flagged.map(({ figure, field, sentence }) => ({ figure, field, sentence }))).toEqual([
      { figure: '7 777', field: 'anchors.80', sentence: 'Называет 7 777 ₽ без периода.' },
    ]);
  });

  it('percentages, times and days are figures as well', () => {
    const scenario = upsellWith({ good: 'Помнит, что клиентка звонила в воскресенье в 17:45 и просила 37% скидки.' });

    expect(checkScenario(scenario, knowledgeBase).flagged.map((f) => f.figure)).toEqual(['воскресенье', '17:45', '37%']);
  });

  it('stops being flagged once the card states it, whatever the spaces and separators', () => {
    const good = 'Напоминает, что у клиента 12 345 контактов.';
    expect(checkScenario(upsellWith({ good }), knowledgeBase).flagged).toHaveLength(1);
    for (const written of ['12 345', '12\u00a0345', '12\u202f345', '12345', '12,345']) {
      const scenario = upsellWith({ good }, [`В аккаунте ${written} контактов`]);
      expect(checkScenario(scenario, knowledgeBase).flagged, written).toEqual([]);
    }
  });

  it('what the client says when asked counts: its hidden needs', () => {
    const upsell = shipped.get('upsell');
    const scenario = upsellWith({ good: 'Выясняет, что каждое воскресенье теряется 13 заявок по 4 321 ₽.' });
    const told: Scenario = {
      ...scenario,
      persona: {
        ...scenario.persona,
        hiddenNeeds: [...upsell.persona.hiddenNeeds, 'по воскресеньям 13 заявок по 4 321 ₽ теряются'],
      },
    };

    expect(checkScenario(scenario, knowledgeBase).flagged.map((f) => f.figure)).toEqual(['воскресенье', '4 321']);
    expect(checkScenario(told, knowledgeBase).flagged).toEqual([]);
  });
});

describe('a figure the rubric computes from known ones', () => {
  it('a product of two known figures is not flagged (9 × 1 200 = 10 800 in the real price rubric)', () => {
    const scenario = upsellWith({ good: 'Считает на 7 человек: 7 × 1 234 = 8 638 ₽ в месяц.' }, ['Цена по договору — 1 234 ₽']);

    expect(checkScenario(scenario, knowledgeBase).flagged).toEqual([]);
  });

  it('a sum, a share of a known amount and a chain of both are not flagged', () => {
    const scenario = upsellWith(
      {
        good:
          'Складывает 1 234 и 4 321 — 5 555 ₽. Считает 12% от 4 321 ₽ — 518,52 ₽. ' +
          'Из 1 234 записей 15% — около 185 визитов, при чеке 4 321 ₽ это примерно 800 000 ₽.',
      },
      ['Договор на 1 234 ₽ и доплата 4 321 ₽', 'Неявки — 15% записей'],
    );

    expect(checkScenario(scenario, knowledgeBase).flagged).toEqual([]);
  });

  it('the operands must be figures the trainee knows: a product of unknown ones is flagged', () => {
    const scenario = upsellWith({ good: 'Считает на 7 человек: 7 × 1 234 = 8 638 ₽ в месяц.' });

    expect(checkScenario(scenario, knowledgeBase).flagged.map((f) => f.figure)).toEqual(['1 234', '8 638']);
  });

  it('only an estimate may be close: an exact figure must match', () => {
    const known = ['В студии 1 234 записи, неявки — 15%, средний чек 4 321 ₽'];
    const estimate = upsellWith({ good: 'Из 1 234 записей 15% — около 185 визитов, это примерно 800 000 ₽.' }, known);
    const exact = upsellWith({ good: 'Из 1 234 записей 15% — около 185 визитов, это 800 000 ₽.' }, known);

    expect(checkScenario(estimate, knowledgeBase).flagged).toEqual([]);
    expect(checkScenario(exact, knowledgeBase).flagged.map((f) => f.figure)).toEqual(['800 000']);
  });
});

describe('figures in a text', () => {
  it('reads numbers with any thousands separator, percentages, times, days and scales', () => {
    expect(figures('9\u00a0600 из 10 000, 10,800 и 99,5%, 3 000 ₽, в 16:00 во вторник, 410 тысяч, 18 млн ₽')).toEqual([
      { text: '9\u00a0600', kind: 'number', value: 9600 },
      { text: '10 000', kind: 'number', value: 10000 },
      { text: '10,800', kind: 'number', value: 10800 },
      { text: '99,5%', kind: 'percent', value: 99.5 },
      { text: '3 000', kind: 'number', value: 3000 },
      { text: '16:00', kind: 'time', value: 960 },
      { text: 'вторник', kind: 'day', value: 2 },
      { text: '410 тысяч', kind: 'number', value: 410000 },
      { text: '18 млн', kind: 'number', value: 18000000 },
    ]);
  });

  it('leaves out digits that are part of a name: 1С, P2, УТ11', () => {
    expect(figures('обмен с 1С, инцидент P2, конфигурация УТ11, среди клиентов')).toEqual([]);
  });
});

describe('the knowledge base text', () => {
  it('reads every document under the folder, leaves out hidden files and lists the unreadable', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kb-check-'));
    mkdirSync(path.join(dir, 'prices'));
    mkdirSync(path.join(dir, '.drafts'));
    writeFileSync(path.join(dir, 'faq.md'), '---\naudience: public\n---\n# FAQ\nТест-драйв — 7 дней.');
    writeFileSync(path.join(dir, 'prices', 'tariffs.txt'), 'Тариф «Старт» — 750 ₽.');
    writeFileSync(path.join(dir, '.drafts', 'secret.md'), 'Скидка 99%.');
    writeFileSync(path.join(dir, 'broken.pdf'), 'это не PDF');
    writeFileSync(path.join(dir, 'image.png'), 'не документ');

    const read = await readKnowledgeBaseText(dir);

    expect(read.files).toEqual(['faq.md', 'prices/tariffs.txt']);
    expect(read.text).toContain('7 дней');
    expect(read.text).toContain('750 ₽');
    expect(read.text).not.toContain('99%');
    expect(read.unreadable).toEqual([
      { file: 'broken.pdf', reason: expect.stringMatching(/не удалось прочитать PDF/) as unknown },
    ]);
  });
});

describe('npm run scenarios:check', () => {
  const run = promisify(execFile);
  const command = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/scenarios-check.ts', ...args], {
      // The command needs no token or key: it must run without them.
      env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !['BOT_TOKEN', 'OPENAI_API_KEY'].includes(name))),
    }).then(
      (done) => ({ code: 0, ...done }),
      (failed: { code: number; stdout: string; stderr: string }) => failed,
    );

  it('passes the shipped scenarios and exits 0', async () => {
    const { code, stdout } = await command('--scenarios', 'scenarios', '--knowledge-base', 'knowledge_base');

    expect(stdout).toContain('✓ upsell «Расширение тарифа»');
    expect(stdout).toContain('Всё в порядке');
    expect(code).toBe(0);
  });

  it('names the figure, the criterion and the sentence, and exits 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'scenarios-check-'));
    cpSync('scenarios/upsell.yaml', path.join(dir, 'upsell.yaml'));
    const source = readFileSync(path.join(dir, 'upsell.yaml'), 'utf8');
    writeFileSync(
      path.join(dir, 'upsell.yaml'),
      source.replace('и договаривается о следующем звонке.', 'и договаривается о следующем звонке. Дарит 4 321 бонус.'),
    );

    const { code, stdout } = await command('--scenarios', dir, '--knowledge-base', 'knowledge_base');

    expect(stdout).toContain('✗ upsell «Расширение тарифа»: 1 цифру рубрики из');
    expect(stdout).toContain('«4 321» — критерий closing «Закрытие и следующий шаг», good:\n      Дарит 4 321 бонус.');
    expect(code).toBe(1);
  });

  it('explains a wrong argument and exits 2', async () => {
    const { code, stderr } = await command('--scenario', 'scenarios');

    expect(stderr).toContain('Запуск: npm run scenarios:check');
    expect(code).toBe(2);
  });
});
