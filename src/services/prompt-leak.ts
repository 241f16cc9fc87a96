/** How many consecutive characters of an instruction count as repeating it. */
const windowSize = 32;

const normalize = (text: string) =>
  text
    .toLowerCase()
    .replaceAll('ё', 'е')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/**
 * Recognises text that repeats the instructions given to a model — what a trainee must never see,
 * whatever the model was talked into. Compares normalised character windows, so changed
 * punctuation, case or line breaks do not hide a copied instruction.
 */
export class PromptLeakDetector {
  private readonly windows = new Set<string>();

  constructor(protectedTexts: readonly string[]) {
    for (const text of protectedTexts) {
      const normalized = normalize(text);
      for (let i = 0; i + windowSize <= normalized.length; i++) this.windows.add(normalized.slice(i, i + windowSize));
    }
  }

  /** True when `text` contains a window of any protected instruction. */
  leaks(text: string): boolean {
    const normalized = normalize(text);
    for (let i = 0; i + windowSize <= normalized.length; i++) {
      if (this.windows.has(normalized.slice(i, i + windowSize))) return true;
    }
    return false;
  }
}

/** What of the client's prompt is instruction (src/services/client-role.ts: clientInstructions). */
export interface ClientInstructions {
  /** The role's framing and rules: repeating a window of any of them is a leak. */
  readonly instructions: readonly string[];
  /** The prompt's section headings («Скрытые потребности (раскрываешь…)»), without the «#». */
  readonly headings: readonly string[];
  /** The persona's hidden needs: fair to say in role, a leak only when listed as instructions. */
  readonly hiddenNeeds: readonly string[];
}

/** Why a client reply counts as out of character (logged and counted, never the text itself). */
export type ClientLeak = 'instruction-text' | 'prompt-heading' | 'self-reference' | 'rules-list' | 'hidden-needs';

// JavaScript's \b knows ASCII letters only; in these patterns it is a word boundary in any script.
const boundary = String.raw`(?:(?<![\p{L}\p{N}])(?=[\p{L}\p{N}])|(?<=[\p{L}\p{N}])(?![\p{L}\p{N}]))`;
const unicodeWords = (pattern: RegExp) =>
  new RegExp(
    pattern.source.replaceAll(String.raw`\b`, boundary),
    pattern.flags.includes('u') ? pattern.flags : `${pattern.flags}u`,
  );

/**
 * The prompt's framing that a client never says about itself, on normalised text (lower case, «ё» as
 * «е», words separated by single spaces). Each was checked against natural client lines
 * (docs/prompt-leak.md): «ваши инструкции», «я не бот», «мои инструкции продавцы не читают»,
 * «системные настройки не слетят?», «симуляция бурной деятельности» stay allowed.
 */
const selfReference: readonly RegExp[] = [
  /\b(?:вот|таковы|это|по|согласно) (?:мои|моим|моих) (?:\p{L}+ )?инструкц/u,
  /\bмои (?:\p{L}+ )?инструкци\p{L}* (?:запрещают|не позволяют|не разрешают|гласят|говорят|требуют|предписывают|такие)\b/u,
  /\bмо(?:й|его|им) (?:системн\p{L}* )?промпт/u,
  /\bмне (?:\p{L}+ )?(?:дали|дана|даны|задали|задана|заданы|прописали|велено|поручено|поручили) (?:\p{L}+ ){0,3}?(?:инструкци\p{L}*|роль|роли|правила|промпт\p{L}*)\b/u,
  /\bинструкци\p{L}* (?:мне )?(?:запрещают|не позволяют|не разрешают|гласят|предписывают)\b/u,
  /\bне (?:могу|буду|стану|имею права) (?:\p{L}+ )?(?:раскр|показ|пересказ|процитир|цитир|озвуч|выда|разглаш)\p{L}* (?:\p{L}+ ){0,2}?(?:инструкц|промпт|системн)/u,
  /\bпромпт|\bprompt|\bсистемн\p{L}* (?:инструкц|указани|промпт)/u,
  /\bsystem (?:message|instructions?)\b|\bmy instructions\b|\bas an ai\b|\bi am an ai\b|\bi m an ai\b|\blanguage model\b/u,
  // «я — ИИ», «я языковая модель», «как ИИ, я…», «являюсь нейросетью»; «я не бот» stays the client's
  /\bя (?:всего лишь |просто |же |это |лишь )?(?:ии|ai|искусственн\p{L}* интеллект|языков\p{L}* модел|нейросет|чат бот|ии ассистент|ии модел|модель ии|виртуальн\p{L}* (?:клиент|помощник|ассистент))/u,
  /\bкак (?:ии|ai|языков\p{L}* модел\p{L}*|искусственн\p{L}* интеллект|модель ии|ии модель|нейросеть) я\b/u,
  /\bявляюсь (?:\p{L}+ )?(?:ии|языков\p{L}* модел\p{L}*|нейросет\p{L}*|искусственн\p{L}* интеллект\p{L}*|чат ботом|ботом)\b/u,
  // The role as a role: «в роли клиента», «играю роль», «выйти из роли»
  /\b(?:в|из|вне|для|своей|моей|этой) роли (?:клиент|покупател)|\bрол[ьи] клиента\b/u,
  /\b(?:играю|играть|сыграть|исполняю|исполнять|отыгрываю|отыгрывать|изображаю|изображать|имитирую|имитировать) (?:роль|клиента|покупател)/u,
  /\b(?:выхожу|выйти|выходить|вышел|вышла|выходи|выйду) из роли\b|\bвне роли\b/u,
  // The training as a training, said of this conversation
  /\b(?:это|эта|этой|эту|нашей|нашу|наша|данной|данная|данную|идет) (?:всего лишь |просто |учебн\p{L}* )?тренировк/u,
  /\bучастни\p{L}* (?:этой )?тренировк|\bтренировк\p{L}* (?:продаж|переговор|менеджер)|\bтренажер/u,
  /\bучебн\p{L}* (?:диалог|сценари|звон|разговор|ситуаци|задани|переговор)|\bсценари\p{L}* тренировк/u,
  /\bменеджер\p{L}* по продажам котор\p{L}* учится|\bкоторый учится продавать/u,
].map(unicodeWords);

/**
 * The stems every self-reference pattern needs, tried first: the patterns' word boundaries in any
 * script cost a look-behind at every position, and almost no line a client says has any of these.
 */
const selfReferenceStems =
  /инструкц|промпт|prompt|system|instruction|language|\bai\b|ии|модел|нейросет|бот|интеллект|ассистент|помощник|виртуальн|рол|правил|системн|игра|исполня|отыгр|изобража|имитир|тренир|тренаж|учебн|учится/u;

/** The same for the headings' patterns. */
const headingStems = /скрыт|раскрыва|выдвига|возражени|убедит|следующий шаг|спросят|настроение|сведения/u;

/** The prompt's headings and labels, as they read in the reply (normalised). */
const headingPhrases: readonly RegExp[] = [
  // Not «скрытые потребности» alone: scenarios' behaviour says «скрытые потребности раскрывает только…».
  /\b(?:мои|твои|мое|твое) скрыт\p{L}* потребност|\bскрыт\p{L}* потребност\p{L}* (?:такие|следующие|вот)\b/u,
  // «раскрывает только…» is the scenarios' behaviour, in the third person; the heading speaks to the model.
  /\bраскрываешь\b|\bраскрываю (?:\p{L}+ ){0,2}только в ответ на\b/u,
  /\bвыдвига\p{L}* (?:их |возражени\p{L}* )?(?:по ходу|не все сразу)/u,
  /\bтвои возражения\b/u,
  /\bчто убедит тебя\b|\bсогласиться на следующий шаг\b/u,
  /\bговоришь если спросят\b|\bнастроение в начале\b|\bсведения о продавце\b/u,
].map(unicodeWords);

/** Structure no client writes in a chat: a Markdown heading, a prompt label, a model's tags (raw text). */
const markupPatterns: readonly RegExp[] = [
  /^\s{0,3}#{1,6}\s+\S/mu,
  // Not «Ситуация:», «Правила:», «Сложность:» at a line's start: a client writes those («Ситуация: склад стоит»).
  /^\s*(?:кто ты|настроение в начале|как говоришь)\s*:/imu,
  /(?:уров\p{L}*\s+)?сложност\p{L}*\s*[:—–-]\s*(?:л[её]гк|средн|сложн)/iu,
  /скрыт\p{L}*\s+потребност\p{L}*\s*[:(—–]/iu,
  /<\/?\s*(?:knowledge|transcript|system|instruction|persona|rules)/iu,
];

const listItem = /^\s*(?:[-*•–—]|\d{1,2}[.)])\s+(.*)$/u;
/** A list item worded as an order to the model («- Никогда не…», «- Говори…», «- Ты клиент…»). */
const orderWords = unicodeWords(
  /^(?:ты|никогда|всегда|не \p{L}+[йиь]|говори|отвечай|используй|будь|веди|задавай|раскрывай|выдвигай|соглашайся|реагируй|удивись|переспроси|играй|помни|избегай|обращайся|держись|сохраняй|упоминай|называй)\b/iu,
);
/** Words that frame hidden needs as what to hide or reveal. */
const revealFraming = unicodeWords(
  /\b(?:скрыт\p{L}*|раскрыва\p{L}*|уточняющ\p{L}*|если (?:спросят|спросит|спросите)|в ответ на (?:хорош|уточняющ)\p{L}*|говоришь если)\b/u,
);
/** How many consecutive words of a hidden need show that it was copied rather than told. */
const needWords = 6;

const wordGrams = (normalized: string, n: number): string[] => {
  const words = normalized.split(' ').filter(Boolean);
  const grams: string[] = [];
  for (let i = 0; i + n <= words.length; i++) grams.push(words.slice(i, i + n).join(' '));
  return grams;
};

/**
 * Tells the client's out-of-character answers from its own lines. A leak is instruction text: the
 * framing and rules copied (normalised windows, as PromptLeakDetector), the prompt's headings and
 * labels, the client speaking of itself as an AI, a role or a training, a list of rules, or hidden
 * needs spelled out as what to reveal. The persona's speech, behaviour, objections and agreement
 * conditions are not protected: they are what the client is meant to say.
 */
export class ClientLeakDetector {
  private readonly copied: PromptLeakDetector;
  private readonly needGrams: ReadonlyArray<ReadonlySet<string>>;

  constructor(instructions: ClientInstructions) {
    this.copied = new PromptLeakDetector([...instructions.instructions, ...instructions.headings]);
    this.needGrams = instructions.hiddenNeeds.map((need) => new Set(wordGrams(normalize(need), needWords)));
  }

  /** Why `text` is out of character, or undefined when it is the client speaking. */
  find(text: string): ClientLeak | undefined {
    const normalized = normalize(text);
    if (this.copied.leaks(text)) return 'instruction-text';
    if (markupPatterns.some((p) => p.test(text))) return 'prompt-heading';
    if (headingStems.test(normalized) && headingPhrases.some((p) => p.test(normalized))) return 'prompt-heading';
    if (selfReferenceStems.test(normalized) && selfReference.some((p) => p.test(normalized))) return 'self-reference';
    const items = text
      .split('\n')
      .map((line) => listItem.exec(line)?.[1])
      .filter((item): item is string => item !== undefined);
    if (items.length >= 2 && items.some((item) => orderWords.test(item.trim()))) return 'rules-list';
    if (this.spellsOutHiddenNeeds(normalized, items)) return 'hidden-needs';
    return undefined;
  }

  leaks(text: string): boolean {
    return this.find(text) !== undefined;
  }

  /**
   * Hidden needs copied word for word as a list, or next to words about hiding and revealing them
   * (looked for outside the copied words: a need may itself say «скажет, только если спросят»).
   */
  private spellsOutHiddenNeeds(normalized: string, listItems: readonly string[]): boolean {
    const words = normalized.split(' ').filter(Boolean);
    const copied = new Array<boolean>(words.length).fill(false);
    for (let i = 0; i + needWords <= words.length; i++) {
      const gram = words.slice(i, i + needWords).join(' ');
      if (this.needGrams.some((need) => need.has(gram))) copied.fill(true, i, i + needWords);
    }
    if (!copied.includes(true)) return false;
    if (revealFraming.test(words.filter((_, i) => !copied[i]).join(' '))) return true;
    const copiesANeed = (item: string) => wordGrams(normalize(item), needWords).some((g) => this.needGrams.some((n) => n.has(g)));
    return listItems.filter(copiesANeed).length >= 2;
  }
}
