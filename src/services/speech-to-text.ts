import OpenAI, { toFile } from 'openai';
import type { Logger } from '../logger.js';

/**
 * Why a spoken turn has no transcript. `no-audio`: the endpoint has no `/audio/transcriptions` at all
 * (a chat-only server): trying again will not help, text still works. `rejected`: it refused this
 * file (a format it cannot read). `timeout` and `unavailable`: try again later.
 */
export type TranscriptionFailure = 'no-audio' | 'rejected' | 'timeout' | 'unavailable';

/** The speech-to-text endpoint gave no transcript. */
export class TranscriptionUnavailableError extends Error {
  constructor(
    readonly failure: TranscriptionFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TranscriptionUnavailableError';
  }
}

/** Audio as the trainee sent it, with a file name whose extension tells the endpoint its format. */
export interface AudioFile {
  readonly bytes: Uint8Array;
  readonly fileName: string;
}

export interface SpeechToText {
  /** The words in the audio; '' when nothing could be heard. Throws TranscriptionUnavailableError. */
  transcribe(audio: AudioFile): Promise<string>;
}

export interface SpeechToTextOptions {
  readonly apiKey: string;
  readonly baseUrl: string | undefined;
  readonly model: string;
  readonly timeoutMs: number;
}

/** How long an endpoint found to have no audio is believed before it is asked again. */
const noAudioRememberedMs = 10 * 60_000;

/**
 * `/audio/transcriptions` of an OpenAI-compatible endpoint (OpenAI, faster-whisper/speaches, LocalAI).
 * An endpoint without audio is told to the operator in one log line, then not asked for a while.
 */
export function createSpeechToText(options: SpeechToTextOptions, logger: Logger): SpeechToText {
  const client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseUrl, timeout: options.timeoutMs, maxRetries: 1 });
  let noAudioUntil = 0;
  let operatorTold = false;

  return {
    async transcribe(audio) {
      if (Date.now() < noAudioUntil) {
        throw new TranscriptionUnavailableError('no-audio', `${describe(options)} has no speech-to-text (remembered)`);
      }
      try {
        const result = await client.audio.transcriptions.create({
          file: await toFile(audio.bytes, audio.fileName),
          model: options.model,
          response_format: 'json',
        });
        return result.text.trim();
      } catch (error) {
        const failure = toTranscriptionError(error, options);
        if (failure.failure === 'no-audio') {
          noAudioUntil = Date.now() + noAudioRememberedMs;
          if (!operatorTold) {
            operatorTold = true;
            logger.error(
              { err: failure, endpoint: options.baseUrl ?? 'OpenAI', model: options.model },
              'voice notes cannot be transcribed: the endpoint has no /audio/transcriptions; set STT_BASE_URL to a server with speech-to-text (text turns keep working)',
            );
          }
        }
        throw failure;
      }
    },
  };
}

function describe(options: Pick<SpeechToTextOptions, 'baseUrl' | 'model'>): string {
  return `${options.baseUrl ?? 'OpenAI'} (${options.model})`;
}

/** The SDK's error as ours, in the style of llm.ts: what it means for the trainee's voice note. */
function toTranscriptionError(error: unknown, options: SpeechToTextOptions): TranscriptionUnavailableError {
  const where = describe(options);
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new TranscriptionUnavailableError('timeout', `${where} did not transcribe in time`, { cause: error });
  }
  if (error instanceof OpenAI.APIError && error.status !== undefined) {
    // 404 (no such route, or no such model), 405 and 501: a server without speech-to-text.
    if (error.status === 404 || error.status === 405 || error.status === 501) {
      return new TranscriptionUnavailableError('no-audio', `${where} has no speech-to-text (${error.status}): ${error.message}`, {
        cause: error,
      });
    }
    if (error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429) {
      return new TranscriptionUnavailableError('rejected', `${where} refused the audio (${error.status}): ${error.message}`, {
        cause: error,
      });
    }
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new TranscriptionUnavailableError('unavailable', `${where} is unavailable: ${reason}`, { cause: error });
}
