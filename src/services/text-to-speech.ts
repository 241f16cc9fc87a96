import OpenAI from 'openai';

/** The speech endpoint gave no audio; the client's answer then goes out as text. */
export class SpeechSynthesisError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SpeechSynthesisError';
  }
}

export interface TextToSpeech {
  /** The text spoken, as Ogg Opus (what Telegram plays as a voice note). Throws SpeechSynthesisError. */
  synthesize(text: string): Promise<Uint8Array>;
}

export interface TextToSpeechOptions {
  readonly apiKey: string;
  readonly baseUrl: string | undefined;
  readonly model: string;
  readonly voice: string;
  readonly timeoutMs: number;
}

/** OpenAI's limit on one request's input; a longer answer is sent as text. */
export const speechInputLimit = 4_096;

/** `/audio/speech` of an OpenAI-compatible endpoint, answering in Opus for `sendVoice`. */
export function createTextToSpeech(options: TextToSpeechOptions): TextToSpeech {
  const client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseUrl, timeout: options.timeoutMs, maxRetries: 1 });
  const where = `${options.baseUrl ?? 'OpenAI'} (${options.model})`;

  return {
    async synthesize(text) {
      if (text.length > speechInputLimit)
        throw new SpeechSynthesisError(`${text.length} characters are more than one speech request takes`);
      let audio: Uint8Array;
      try {
        const response = await client.audio.speech.create({
          model: options.model,
          voice: options.voice,
          input: text,
          response_format: 'opus',
        });
        audio = new Uint8Array(await response.arrayBuffer());
      } catch (error) {
        const status = error instanceof OpenAI.APIError && error.status !== undefined ? ` (${error.status})` : '';
        throw new SpeechSynthesisError(`${where} gave no speech${status}: ${(error as Error).message}`, { cause: error });
      }
      // Telegram shows anything else sent as a voice note as a file, or refuses it.
      if (!isOggOpus(audio))
        throw new SpeechSynthesisError(`${where} answered with something other than Ogg Opus (${audio.length} bytes)`);
      return audio;
    },
  };
}

/** An Ogg stream whose first page carries the Opus identification header. */
export function isOggOpus(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 64));
  return head.subarray(0, 4).toString('latin1') === 'OggS' && head.includes('OpusHead', 0, 'latin1');
}
