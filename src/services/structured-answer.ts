import { z } from 'zod';
import type { ChatMessage } from '../db/queries/messages.js';
import type { Logger } from '../logger.js';
import { ModelUnavailableError, type ChatModel, type JsonSchemaFormat } from './llm.js';

export interface StructuredAnswerOptions<T> {
  readonly model: ChatModel;
  readonly modelName: string;
  readonly logger: Logger;
  /** The JSON schema's name in the structured-output request. */
  readonly formatName: string;
  /** What the log lines call it: «judge», «hint». */
  readonly what: string;
  /** The answer's shape: sent to the model as JSON schema, and what its answer is validated with. */
  readonly schema: z.ZodType<T>;
  /** Validates leniently instead (defaults for what a model in JSON mode may leave out). */
  readonly lenientSchema?: z.ZodType<T>;
  /** Left out, the endpoint's default. */
  readonly temperature?: number;
}

/** A model asked for one JSON answer of a known shape. */
export interface StructuredAnswers<T> {
  /**
   * The model's answer, valid by the schema and by `problemsOf` (more checks: a problem each, in the
   * model's language). An invalid answer is sent back once with its problems to be repaired; still
   * invalid, it throws ModelUnavailableError('malformed'), as does a model that cannot be reached.
   */
  ask(messages: readonly ChatMessage[], problemsOf?: (answer: T) => string[]): Promise<T>;
  /** The temperature sent, or null once the model refused one (reasoning models take only their default). */
  temperatureSent(): number | null;
}

/**
 * Structured output where the endpoint has it, and JSON mode with validation where it refuses
 * json_schema; a set temperature until the model refuses one. Both are learned once per process.
 */
export function structuredAnswers<T>(options: StructuredAnswerOptions<T>): StructuredAnswers<T> {
  const { model, modelName, logger, what } = options;
  const format: JsonSchemaFormat = { name: options.formatName, schema: jsonSchemaOf(options.schema) };
  let structuredOutput = true;
  let sendTemperature = options.temperature !== undefined;

  async function complete(messages: readonly ChatMessage[], requested: JsonSchemaFormat | 'json_object'): Promise<string> {
    const request = () =>
      model.completeJson({
        model: modelName,
        messages,
        format: requested,
        ...(sendTemperature ? { temperature: options.temperature } : {}),
      });
    try {
      return (await request()).text;
    } catch (error) {
      if (!sendTemperature || !refusesTemperature(error)) throw error;
      logger.warn(
        { err: error, temperature: options.temperature },
        `the ${what} model refuses a set temperature; using the model's default`,
      );
      sendTemperature = false;
      return (await request()).text;
    }
  }

  async function completeStructured(messages: readonly ChatMessage[]): Promise<string> {
    if (structuredOutput) {
      try {
        return await complete(messages, format);
      } catch (error) {
        if (!(error instanceof ModelUnavailableError) || error.failure !== 'rejected') throw error;
        logger.warn({ err: error }, `the ${what} endpoint refused json_schema; using JSON mode with validation`);
        structuredOutput = false;
      }
    }
    return complete(messages, 'json_object');
  }

  const validate = (text: string, problemsOf?: (answer: T) => string[]) =>
    parseJsonAnswer(text, options.lenientSchema ?? options.schema, problemsOf);

  return {
    async ask(messages, problemsOf) {
      const first = await completeStructured(messages);
      const answer = validate(first, problemsOf);
      if (answer.ok) return answer.answer;
      logger.warn({ problems: answer.problems }, `${what} answer invalid; asking once to repair it`);
      const repaired = validate(
        await completeStructured([
          ...messages,
          { role: 'assistant', content: first },
          { role: 'user', content: repairRequest(answer.problems) },
        ]),
        problemsOf,
      );
      if (repaired.ok) return repaired.answer;
      throw new ModelUnavailableError('malformed', `${what} answer invalid after repair: ${repaired.problems.join('; ')}`);
    },
    temperatureSent: () => (sendTemperature ? (options.temperature ?? null) : null),
  };
}

/** What the model is told when its answer did not pass the checks. */
export function repairRequest(problems: readonly string[]): string {
  return `Ответ не прошёл проверку: ${problems.join('; ')}. Пришли исправленный JSON целиком, строго по схеме, без пояснений.`;
}

export type ParsedAnswer<T> = { readonly ok: true; readonly answer: T } | { readonly ok: false; readonly problems: string[] };

/** A model's JSON answer (inside a code fence or not), checked against the schema and `problemsOf`. */
export function parseJsonAnswer<T>(text: string, schema: z.ZodType<T>, problemsOf?: (answer: T) => string[]): ParsedAnswer<T> {
  let data: unknown;
  try {
    data = JSON.parse(stripCodeFence(text));
  } catch {
    return { ok: false, problems: ['ответ не является JSON'] };
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) };
  const problems = problemsOf?.(parsed.data) ?? [];
  return problems.length > 0 ? { ok: false, problems } : { ok: true, answer: parsed.data };
}

/** The zod schema as the JSON schema a structured-output request carries. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema) as Record<string, unknown>;
  return json;
}

/**
 * Text from people (a dialogue, a document) placed in a prompt as data: it cannot close the block
 * it sits in or open a tag that looks like instructions.
 */
export function escapeData(text: string): string {
  return text.replaceAll('<', '‹').replaceAll('>', '›');
}

function stripCodeFence(text: string): string {
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/.exec(text.trim());
  return fenced ? fenced[1]! : text;
}

/** The endpoint refused the temperature itself (o1/o3-style models take only their default). */
function refusesTemperature(error: unknown): boolean {
  return error instanceof ModelUnavailableError && error.failure === 'rejected' && /temperature/i.test(error.message);
}
