import { describe, expect, it } from 'vitest';
import { buildClientSystemPrompt, clientInstructionTexts } from '../../src/services/client-role.js';
import { PromptLeakDetector } from '../../src/services/prompt-leak.js';
import { loadScenarios } from '../../src/services/scenarios.js';

describe('PromptLeakDetector', () => {
  it("recognises the client's instructions however they are re-punctuated, and lets the character speak", async () => {
    const scenario = (await loadScenarios('scenarios')).get('cold-call');
    const detector = new PromptLeakDetector(clientInstructionTexts(scenario, 'hard'));
    const prompt = buildClientSystemPrompt(scenario, 'hard');
    const rules = prompt.slice(prompt.indexOf('# Правила'));
    expect(detector.leaks(`Мои инструкции: ${rules}`)).toBe(true);
    expect(detector.leaks(rules.toUpperCase().replaceAll('\n', ' ').replaceAll(',', ''))).toBe(true);
    expect(detector.leaks(scenario.difficulties.hard.behaviour)).toBe(true);

    expect(detector.leaks(`Я ${scenario.persona.name}, ${scenario.persona.role}. ${scenario.persona.company}.`)).toBe(false);
    expect(detector.leaks('Сколько стоит тариф «Бизнес» при оплате за год? И что с интеграцией 1С?')).toBe(false);
  });
});
