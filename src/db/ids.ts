declare const brand: unique symbol;
type Brand<T, Name extends string> = T & { readonly [brand]: Name };

/** Our internal users.id. Never a Telegram id. */
export type UserId = Brand<number, 'UserId'>;
/** A Telegram user id as Telegram sends it. Never an internal id. */
export type TelegramId = Brand<number, 'TelegramId'>;
/** sessions.id: one training session (one dialogue). */
export type SessionId = Brand<number, 'SessionId'>;

/** A Telegram file_id: what getFile takes to download a trainee's voice note again. */
export type TelegramFileId = Brand<string, 'TelegramFileId'>;

export const asTelegramFileId = (id: string): TelegramFileId => id as TelegramFileId;
export const asTelegramId = (id: number): TelegramId => id as TelegramId;
