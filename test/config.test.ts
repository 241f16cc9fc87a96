import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, configSchema, loadConfig, variableDocRegistry, type Documented } from '../src/config.js';

const valid = {
  BOT_TOKEN: '123456789:AAExampleExampleExampleExample',
  OPENAI_API_KEY: 'sk-test-key',
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(valid);
    expect(config.telegramApiRoot).toBe('https://api.telegram.org');
    expect(config.openai.clientModel).toBe('gpt-4o-mini');
    expect(config.openai.judgeModel).toBe('gpt-4o-mini');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.access.mode).toBe('allowlist');
    expect(config.defaultLocale).toBe('ru');
    expect(config.healthPort).toBe(8080);
    expect(config.sheets.enabled).toBe(false);
    expect(config.embeddingModel).toBe('Xenova/multilingual-e5-small');
    expect(config.modelsDir.endsWith('data/models')).toBe(true);
  });

  it('is frozen all the way down', () => {
    const config = loadConfig({ ...valid, ALLOWED_USER_IDS: '1,2' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.access)).toBe(true);
    expect(Object.isFrozen(config.access.allowedUserIds)).toBe(true);
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({ ...valid, DATABASE_URL: '', JUDGE_MODEL: '  ', LLM_MODEL: 'model-x' });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.openai.judgeModel).toBe('model-x');
  });

  it('runs the judge at temperature 0 unless told otherwise, within 0–2, a decimal comma accepted', () => {
    expect(loadConfig(valid).openai.judgeTemperature).toBe(0);
    expect(loadConfig({ ...valid, JUDGE_TEMPERATURE: '' }).openai.judgeTemperature).toBe(0);
    expect(loadConfig({ ...valid, JUDGE_TEMPERATURE: '0.3' }).openai.judgeTemperature).toBe(0.3);
    expect(loadConfig({ ...valid, JUDGE_TEMPERATURE: '0,7' }).openai.judgeTemperature).toBe(0.7);
    expect(problemsOf({ ...valid, JUDGE_TEMPERATURE: '2.5' })).toEqual([
      'JUDGE_TEMPERATURE: должно быть от 0 до 2 — укажите число от 0 до 2, например 0 или 0.2',
    ]);
    expect(problemsOf({ ...valid, JUDGE_TEMPERATURE: 'холодно' })).toEqual([
      'JUDGE_TEMPERATURE: должно быть числом — укажите число от 0 до 2, например 0 или 0.2',
    ]);
  });

  it('parses id lists', () => {
    const config = loadConfig({ ...valid, ALLOWED_USER_IDS: '111, 222;333', ADMIN_USER_IDS: '111' });
    expect(config.access.allowedUserIds).toEqual([111, 222, 333]);
    expect(config.access.adminUserIds).toEqual([111]);
  });

  it('lists every problem at once, each with what to do', () => {
    const problems = problemsOf({
      DATABASE_URL: 'mysql://x',
      ACCESS_MODE: 'everyone',
      ALLOWED_USER_IDS: '12,abc',
      HEALTH_PORT: 'eighty',
      TEAM_TIME_ZONE: 'Mars/Olympus',
    });
    const names = problems.map((p) => p.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'BOT_TOKEN',
        'OPENAI_API_KEY',
        'DATABASE_URL',
        'ACCESS_MODE',
        'ALLOWED_USER_IDS',
        'HEALTH_PORT',
        'TEAM_TIME_ZONE',
      ]),
    );
    expect(problems.find((p) => p.startsWith('DATABASE_URL'))).toContain('postgres://');
    expect(problems.find((p) => p.startsWith('ALLOWED_USER_IDS'))).toContain('«abc»');
    expect(problems.find((p) => p.startsWith('BOT_TOKEN'))).toContain('@BotFather');
  });

  it('rejects a malformed bot token and database URL', () => {
    expect(problemsOf({ ...valid, BOT_TOKEN: 'not-a-token' })[0]).toMatch(/^BOT_TOKEN/);
    expect(problemsOf({ ...valid, DATABASE_URL: 'postgres://' })[0]).toMatch(/^DATABASE_URL/);
  });

  it('wants both halves of the sheet export or neither', () => {
    expect(problemsOf({ ...valid, GOOGLE_SHEETS_ID: 'abc' })[0]).toMatch(/^GOOGLE_SERVICE_ACCOUNT_FILE/);
    const config = loadConfig({ ...valid, GOOGLE_SHEETS_ID: 'abc', GOOGLE_SERVICE_ACCOUNT_FILE: 'key.json' });
    expect(config.sheets).toMatchObject({ enabled: true, spreadsheetId: 'abc', resultsTab: 'Результаты' });
  });

  it('names the problems in the error message without leaking values', () => {
    try {
      loadConfig({ BOT_TOKEN: 'secret-but-wrong', OPENAI_API_KEY: 'sk-x' });
    } catch (error) {
      expect((error as Error).message).toContain('BOT_TOKEN');
      expect((error as Error).message).not.toContain('secret-but-wrong');
      return;
    }
    throw new Error('expected a ConfigError');
  });
});

describe('the configuration schema', () => {
  it('carries the documentation of every variable on its schema', () => {
    for (const [name, schema] of Object.entries(configSchema.in.shape)) {
      const doc = variableDocRegistry.get(schema);
      expect(doc, `${name} has no documentation`).toBeDefined();
      for (const [field, text] of Object.entries(doc ?? {})) expect(text, `${name}.${field}`).not.toBe('');
    }
  });

  it('does not compile a variable whose schema carries no documentation', () => {
    // @ts-expect-error a schema that did not go through documented() is not Documented
    const undocumented: Documented = z.string().optional();
    expect(variableDocRegistry.get(undocumented)).toBeUndefined();
  });
});
