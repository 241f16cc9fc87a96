import path from 'node:path';
import type { Api } from 'grammy';
import type { SpokenKind } from '../../db/queries/messages.js';
import type { AudioDownloader } from '../../services/training/index.js';

/** The Bot API lets bots download files up to 20 MB (getFile); a larger one cannot be transcribed. */
export const telegramDownloadLimitBytes = 20 * 1024 * 1024;

/** Telegram did not hand over a file (no path, a failed download, more than the limit). */
export class TelegramFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TelegramFileError';
  }
}

export interface TelegramFileSource {
  readonly api: Pick<Api, 'getFile'>;
  /** TELEGRAM_API_ROOT: files come from `<apiRoot>/file/bot<token>/<file_path>`, as the Bot API serves them. */
  readonly apiRoot: string;
  readonly token: string;
  readonly fetch: typeof fetch;
}

// What /audio/transcriptions takes (OpenAI's list, which self-hosted servers follow); Telegram's
// voice notes are Ogg Opus saved as .oga, which OpenAI refuses by name.
const transcribableExtensions = new Set(['flac', 'mp3', 'mp4', 'mpeg', 'mpga', 'm4a', 'ogg', 'wav', 'webm']);
const oggAliases = new Set(['oga', 'opus', 'ogx']);

/** The name the endpoint is given for a file: its extension tells it the format. */
export function audioFileName(kind: SpokenKind, filePath: string): string {
  const extension = path.extname(filePath).slice(1).toLowerCase();
  if (kind === 'voice' || oggAliases.has(extension)) return `${kind}.ogg`;
  if (transcribableExtensions.has(extension)) return `${kind}.${extension}`;
  return kind === 'video_note' ? 'video_note.mp4' : `${kind}.${extension || 'ogg'}`;
}

/** Downloads a trainee's voice note, audio file or video note: getFile, then the file itself. */
export function telegramAudioDownloader(source: TelegramFileSource): AudioDownloader {
  return async (fileId, kind) => {
    const file = await source.api.getFile(fileId);
    if (!file.file_path) throw new TelegramFileError('Telegram gave no file_path for the voice note');
    if (file.file_size !== undefined && file.file_size > telegramDownloadLimitBytes) {
      throw new TelegramFileError(`the file is ${file.file_size} bytes, more than bots may download`);
    }
    // The URL holds the token: it is never put into an error message.
    const response = await source.fetch(`${source.apiRoot}/file/bot${source.token}/${file.file_path}`);
    if (!response.ok) throw new TelegramFileError(`the file download answered ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > telegramDownloadLimitBytes)
      throw new TelegramFileError(`the file is ${bytes.length} bytes, more than bots may download`);
    return { bytes, fileName: audioFileName(kind, file.file_path) };
  };
}
