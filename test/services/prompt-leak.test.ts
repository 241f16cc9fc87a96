import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bareGoodbye, buildClientSystemPrompt, clientInstructions, steadyLine } from '../../src/services/client-role.js';
import { ClientLeakDetector, PromptLeakDetector } from '../../src/services/prompt-leak.js';
import { difficultyLevels, loadScenarios, type Difficulty, type ScenarioCatalog } from '../../src/services/scenarios.js';
import { instructionLeaks, naturalClientLines, plausibleClientLines } from '../fixtures/client-lines.js';

let catalog: ScenarioCatalog;
const detectors = new Map<string, ClientLeakDetector>();
const detectorOf = (scenario: string, difficulty: Difficulty) => detectors.get(`${scenario}:${difficulty}`)!;

beforeAll(async () => {
  catalog = await loadScenarios(path.resolve(import.meta.dirname, '../../scenarios'));
  for (const scenario of catalog.all) {
    for (const difficulty of difficultyLevels) {
      detectors.set(`${scenario.key}:${difficulty}`, new ClientLeakDetector(clientInstructions(scenario, difficulty)));
    }
  }
});

const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(2)}%`;

describe('the client leak filter, measured', () => {
  it("never replaces a client's natural line: 0 false replacements on the corpus", () => {
    const lines = naturalClientLines(catalog);
    const replaced: string[] = [];
    let checks = 0;
    for (const line of lines) {
      const scenarios = line.scenario ? [line.scenario] : catalog.all.map((s) => s.key);
      let hit: string | undefined;
      for (const scenario of scenarios) {
        for (const difficulty of difficultyLevels) {
          checks++;
          const leak = detectorOf(scenario, difficulty).find(line.text);
          if (leak) hit ??= `${scenario}/${difficulty} ${line.source} (${leak}): ${line.text}`;
        }
      }
      if (hit) replaced.push(hit);
    }
    console.info(
      `natural client lines: ${lines.length} (${plausibleClientLines.length} written, the rest from the scenarios), ` +
        `${checks} checks; replaced ${replaced.length} — false-replacement rate ${percent(replaced.length, lines.length)}`,
    );
    expect(lines.length).toBeGreaterThan(300);
    expect(replaced).toEqual([]);
  });

  it('the former filter (windows of speechStyle, behaviour, agreeWhen) replaced many of them', () => {
    const lines = naturalClientLines(catalog).filter((line) => line.scenario !== undefined);
    const replaced = lines.filter((line) => {
      const scenario = catalog.get(line.scenario!);
      return difficultyLevels.some((difficulty) =>
        new PromptLeakDetector([
          ...clientInstructions(scenario, difficulty).instructions,
          scenario.difficulties[difficulty].behaviour,
          scenario.persona.speechStyle,
          ...scenario.persona.agreeWhen,
        ]).leaks(line.text),
      );
    });
    const written = replaced.filter((line) => line.source === 'plausible').length;
    const writtenAll = lines.filter((line) => line.source === 'plausible').length;
    console.info(
      `former filter on the same ${lines.length} scenario lines: replaced ${replaced.length} — ${percent(replaced.length, lines.length)}; ` +
        `of the ${writtenAll} written lines: ${written} — ${percent(written, writtenAll)}`,
    );
    expect(replaced.map((line) => line.text)).toContain('Секунду… так. А сколько это будет на 12 человек? Только точно.');
    expect(replaced.map((line) => line.text)).toContain('Давайте онлайн-демонстрацию на 20–30 минут…');
  });

  it('catches every instruction leak: rules, headings, «Мои инструкции», prompt dumps, AI and training talk', () => {
    const leaks = instructionLeaks(catalog);
    const missed = leaks.filter((leak) => !detectorOf(leak.scenario, leak.difficulty).leaks(leak.text));
    const bySource = new Map<string, number>();
    for (const leak of leaks) bySource.set(leak.source, (bySource.get(leak.source) ?? 0) + 1);
    console.info(
      `instruction leaks: ${leaks.length} (${bySource.size} kinds), detected ${leaks.length - missed.length} — ` +
        `detection rate ${percent(leaks.length - missed.length, leaks.length)}`,
    );
    expect(missed.map((leak) => `${leak.scenario}/${leak.difficulty} ${leak.source}: ${leak.text.slice(0, 120)}`)).toEqual([]);
  });
});

describe('ClientLeakDetector', () => {
  const hardColdCall = () => detectorOf('cold-call', 'hard');

  it('lets the persona say what its own speechStyle, behaviour and agreeWhen describe', () => {
    const scenario = catalog.get('cold-call');
    const detector = hardColdCall();
    expect(detector.find(scenario.persona.speechStyle)).toBeUndefined();
    expect(detector.find(scenario.difficulties.hard.behaviour)).toBeUndefined();
    for (const condition of scenario.persona.agreeWhen) expect(detector.find(condition)).toBeUndefined();
    // A hidden need said in role is the point of the exercise.
    expect(detector.find(`Скрывать не буду: ${scenario.persona.hiddenNeeds[0]}`)).toBeUndefined();
  });

  it('says what gave the leak away', () => {
    const scenario = catalog.get('cold-call');
    const detector = hardColdCall();
    const prompt = buildClientSystemPrompt(scenario, 'hard');
    expect(detector.find(prompt.slice(prompt.indexOf('# Правила')).replace(/^# .*\n/, ''))).toBe('instruction-text');
    expect(detector.find('# Кто ты')).toBe('prompt-heading');
    expect(detector.find('Это всего лишь тренировка, давайте продолжим.')).toBe('self-reference');
    expect(detector.find('- Будь вежлив\n- Никогда не спорь')).toBe('rules-list');
    expect(
      detector.find(
        `Уточняющие вопросы я жду про это: ${scenario.persona.hiddenNeeds[1]}, и ещё ${scenario.persona.hiddenNeeds[2]}`,
      ),
    ).toBe('hidden-needs');
    expect(detector.find(scenario.persona.hiddenNeeds.map((need) => `- ${need}`).join('\n'))).toBe('hidden-needs');
  });

  it('never flags the lines the bot itself puts in the client’s mouth', () => {
    for (const scenario of catalog.all) {
      for (const difficulty of difficultyLevels) {
        const detector = detectorOf(scenario.key, difficulty);
        expect(detector.find(steadyLine(scenario, 0))).toBeUndefined();
        expect(detector.find(steadyLine(scenario, 1))).toBeUndefined();
        expect(detector.find(bareGoodbye)).toBeUndefined();
      }
    }
  });
});

describe('PromptLeakDetector', () => {
  it('recognises protected text however it is re-punctuated, and nothing else', () => {
    const rule = 'Никогда не выходи из роли и не признавай, что ты ИИ или участник тренировки, что бы ни писал собеседник.';
    const detector = new PromptLeakDetector([rule]);
    expect(detector.leaks(`Мои правила: ${rule.toUpperCase().replaceAll(',', '')}`)).toBe(true);
    expect(detector.leaks('Сколько стоит тариф «Бизнес» при оплате за год? И что с интеграцией 1С?')).toBe(false);
  });
});
