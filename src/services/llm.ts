import OpenAI from 'openai';
import type { Logger } from '../logger.js';
import type { ChatMessage } from '../db/queries/messages.js';
import type { SessionId, UserId } from '../db/ids.js';
import type { modelUsagePurpose } from '../db/schema.js';

/** What a model call was for (`model_usage.purpose`). */
export type ModelUsagePurpose = (typeof modelUsagePurpose.enumValues)[number];

/** Whose bill a model call is on: recorded in `model_usage` by the usage ledger (usage.ts). */
export interface UsageTag {
  readonly purpose: ModelUsagePurpose;
  readonly userId: UserId;
  readonly sessionId?: SessionId | undefined;
}

/**
 * Why the model gave no usable answer. `too-long`: the request exceeded the model's context window
 * (a 400 like `rejected`, but about the input's size, not about what was asked).
 */
export type ModelFailure = 'timeout' | 'unavailable' | 'rejected' | 'malformed' | 'too-long';

/** The model could not answer; the user gets an apology and may simply try again. */
export class ModelUnavailableError extends Error {
  constructor(
    readonly failure: ModelFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ModelUnavailableError';
  }
}

export interface ChatReply {
  readonly text: string;
  readonly promptTokens: number | undefined;
  readonly completionTokens: number | undefined;
}

export interface JsonSchemaFormat {
  readonly name: string;
  readonly schema: Record<string, unknown>;
}

/** A chat-completion model behind an OpenAI-compatible endpoint. */
export interface ChatModel {
  /** Streams an answer; `onText` receives the whole text so far after each piece. */
  streamChat(request: {
    readonly model: string;
    readonly messages: readonly ChatMessage[];
    readonly onText?: (textSoFar: string) => void;
    /** Whose call this is; left out, the ledger's current scope (`withUsage`), if any. */
    readonly usage?: UsageTag;
  }): Promise<ChatReply>;
  /**
   * Asks for a JSON answer: `json_schema` structured output, or `json_object` for endpoints without it.
   * Throws ModelUnavailableError('rejected') when the endpoint refuses the response format.
   */
  completeJson(request: {
    readonly model: string;
    readonly messages: readonly ChatMessage[];
    readonly format: JsonSchemaFormat | 'json_object';
    /** Sampling temperature (0–2); left out, the endpoint's default. */
    readonly temperature?: number;
    /** Whose call this is; left out, the ledger's current scope (`withUsage`), if any. */
    readonly usage?: UsageTag;
  }): Promise<ChatReply>;
}

export interface LlmOptions {
  readonly apiKey: string;
  readonly baseUrl: string | undefined;
  readonly timeoutMs: number;
}

/** The OpenAI SDK client with our error mapping. One instance serves the client role and the judge. */
export function createChatModel(options: LlmOptions, logger: Logger): ChatModel {
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    timeout: options.timeoutMs,
    maxRetries: 1,
  });

  return {
    async streamChat({ model, messages, onText }) {
      const started = performance.now();
      // The SDK's timeout ends once headers arrive; a stream that stalls afterwards needs its own watchdog.
      const stalled = new AbortController();
      let watchdog = setTimeout(() => stalled.abort(), options.timeoutMs);
      try {
        const stream = await client.chat.completions.create(
          {
            model,
            messages: messages.map(toSdkMessage),
            stream: true,
            stream_options: { include_usage: true },
          },
          { signal: stalled.signal },
        );
        let text = '';
        let usage: OpenAI.CompletionUsage | undefined;
        for await (const chunk of stream) {
          clearTimeout(watchdog);
          watchdog = setTimeout(() => stalled.abort(), options.timeoutMs);
          const piece = chunk.choices[0]?.delta?.content ?? '';
          if (chunk.usage) usage = chunk.usage;
          if (piece) {
            text += piece;
            onText?.(text);
          }
        }
        if (!text.trim()) throw new ModelUnavailableError('malformed', `model ${model} answered with empty text`);
        logger.debug({ model, ms: Math.round(performance.now() - started), chars: text.length }, 'model answered');
        return { text, promptTokens: usage?.prompt_tokens, completionTokens: usage?.completion_tokens };
      } catch (error) {
        if (stalled.signal.aborted) {
          throw new ModelUnavailableError('timeout', `model ${model} stopped streaming`, { cause: error });
        }
        throw toModelError(error, model);
      } finally {
        clearTimeout(watchdog);
      }
    },

    async completeJson({ model, messages, format, temperature }) {
      try {
        const completion = await client.chat.completions.create({
          model,
          messages: messages.map(toSdkMessage),
          ...(temperature === undefined ? {} : { temperature }),
          response_format:
            format === 'json_object'
              ? { type: 'json_object' }
              : { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, strict: true } },
        });
        const text = completion.choices[0]?.message?.content ?? '';
        return {
          text,
          promptTokens: completion.usage?.prompt_tokens,
          completionTokens: completion.usage?.completion_tokens,
        };
      } catch (error) {
        throw toModelError(error, model);
      }
    },
  };
}

function toSdkMessage(message: ChatMessage): OpenAI.ChatCompletionMessageParam {
  return { role: message.role, content: message.content };
}

function toModelError(error: unknown, model: string): ModelUnavailableError {
  if (error instanceof ModelUnavailableError) return error;
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new ModelUnavailableError('timeout', `model ${model} did not answer in time`, { cause: error });
  }
  if (isContextLengthError(error)) {
    return new ModelUnavailableError('too-long', `model ${model} refused the input as too long: ${error.message}`, {
      cause: error,
    });
  }
  if (
    error instanceof OpenAI.APIError &&
    error.status !== undefined &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 429
  ) {
    return new ModelUnavailableError('rejected', `model ${model} rejected the request (${error.status}): ${error.message}`, {
      cause: error,
    });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new ModelUnavailableError('unavailable', `model ${model} is unavailable: ${reason}`, { cause: error });
}

/**
 * OpenAI says `context_length_exceeded`; vLLM, llama.cpp and Ollama answer 400 with their own words
 * ("maximum context length", "exceeds the context window", "too many tokens").
 */
function isContextLengthError(error: unknown): error is InstanceType<typeof OpenAI.APIError> {
  if (!(error instanceof OpenAI.APIError) || (error.status !== 400 && error.status !== 413)) return false;
  if (error.code === 'context_length_exceeded') return true;
  return /context length|context window|context_length|maximum context|too many tokens|prompt is too long/i.test(error.message);
}
