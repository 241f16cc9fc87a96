/**
 * `npm run scenarios:check [-- --scenarios <dir>] [--knowledge-base <dir>]`: checks that every figure
 * a scenario's rubric scores (numbers, percentages, times, days) is one the trainee can know — from
 * the client card, from what the client says when asked, or from the knowledge base. Folders default
 * to SCENARIOS_DIR and KNOWLEDGE_BASE_DIR.
 *
 * Exit codes: 0 nothing flagged; 1 a figure flagged, a scenario file broken or a folder unreadable;
 * 2 wrong arguments or configuration.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigOrExplain } from '../config.js';
import {
  checkScenario,
  KnowledgeBaseFolderError,
  readKnowledgeBaseText,
  type KnowledgeBaseText,
  type ScenarioCheck,
} from '../services/scenario-check.js';
import { loadScenarios, ScenarioFileError } from '../services/scenarios.js';
import { runCommand } from './run-command.js';

/** The check needs neither the bot token nor the LLM key: stand-ins keep the shared config check. */
const NOT_NEEDED_FOR_THE_CHECK = {
  BOT_TOKEN: '0:not-needed-for-the-scenario-check',
  OPENAI_API_KEY: 'not-needed-for-the-scenario-check',
};

const usage = 'Запуск: npm run scenarios:check [-- --scenarios <папка>] [--knowledge-base <папка>]';

async function main(): Promise<number> {
  let folders: { scenarios?: string; knowledgeBase?: string };
  try {
    folders = parseCommand(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const config = loadConfigOrExplain(NOT_NEEDED_FOR_THE_CHECK);
  if (!config) return 2;
  const scenariosDir = folders.scenarios ? path.resolve(folders.scenarios) : config.scenariosDir;
  const knowledgeBaseDir = folders.knowledgeBase ? path.resolve(folders.knowledgeBase) : config.knowledgeBaseDir;

  let knowledgeBase: KnowledgeBaseText;
  try {
    const scenarios = await loadScenarios(scenariosDir);
    knowledgeBase = await readKnowledgeBaseText(knowledgeBaseDir, config.documentLimits);
    const checks = scenarios.all.map((scenario) => checkScenario(scenario, knowledgeBase.text));
    console.log(describeChecks(scenariosDir, knowledgeBaseDir, knowledgeBase, checks));
    return checks.some((check) => check.flagged.length > 0) ? 1 : 0;
  } catch (error) {
    if (!(error instanceof ScenarioFileError || error instanceof KnowledgeBaseFolderError)) throw error;
    console.error(error.message);
    return 1;
  }
}

function parseCommand(argv: readonly string[]): { scenarios?: string; knowledgeBase?: string } {
  const { values } = parseArgs({
    args: [...argv],
    options: { scenarios: { type: 'string' }, 'knowledge-base': { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  return { scenarios: values.scenarios, knowledgeBase: values['knowledge-base'] };
}

function describeChecks(
  scenariosDir: string,
  knowledgeBaseDir: string,
  knowledgeBase: KnowledgeBaseText,
  checks: readonly ScenarioCheck[],
): string {
  const lines = [
    `Сценарии: ${scenariosDir} (${checks.length})`,
    `База знаний: ${knowledgeBaseDir} (${plural(knowledgeBase.files.length, 'файл', 'файла', 'файлов')})`,
  ];
  if (knowledgeBase.unreadable.length > 0) {
    lines.push('  не прочитаны — их цифры не учтены:');
    for (const { file, reason } of knowledgeBase.unreadable) lines.push(`    • ${file} — ${reason}`);
  }
  lines.push('');
  for (const check of checks) {
    const name = `${check.key} «${check.title}»`;
    if (check.figures === 0) {
      lines.push(`✓ ${name}: в рубрике нет цифр`);
      continue;
    }
    if (check.flagged.length === 0) {
      lines.push(`✓ ${name}: ${plural(check.figures, 'цифра', 'цифры', 'цифр')} рубрики — все стажёр может знать`);
      continue;
    }
    const flagged = plural(check.flagged.length, 'цифру', 'цифры', 'цифр');
    lines.push(`✗ ${name}: ${flagged} рубрики из ${check.figures} стажёру узнать неоткуда`);
    for (const flagged of check.flagged) {
      lines.push(`    «${flagged.figure}» — критерий ${flagged.criterion} «${flagged.criterionTitle}», ${flagged.field}:`);
      lines.push(`      ${flagged.sentence}`);
    }
  }
  const failed = checks.filter((check) => check.flagged.length > 0).length;
  lines.push('');
  if (failed === 0) {
    lines.push('Всё в порядке: рубрики оценивают только то, что стажёр может узнать из карточки, от клиента или из базы знаний.');
  } else {
    lines.push(
      `Есть замечания в ${plural(failed, 'сценарии', 'сценариях', 'сценариях')} из ${checks.length}. Каждую такую цифру впишите`,
      'в карточку клиента (brief.known), дайте клиенту (persona.situation или persona.hiddenNeeds — он скажет её,',
      'если спросят), добавьте в базу знаний или уберите из рубрики.',
    );
  }
  return lines.join('\n');
}

const russianPlural = new Intl.PluralRules('ru');

function plural(count: number, one: string, few: string, many: string): string {
  const form = russianPlural.select(count);
  return `${count} ${form === 'one' ? one : form === 'few' ? few : many}`;
}

runCommand(main);
