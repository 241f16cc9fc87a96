import type { RecordedRequest, Reply } from './openai-fake.js';

/** A message's content as text, whatever shape the SDK sent it in. */
export function textOf(content: unknown): string {
  return typeof content === 'string' ? content : JSON.stringify(content ?? '');
}

/** The rubric keys the judge prompt lists (`key «contact»`). */
export function rubricKeysOf(request: RecordedRequest): string[] {
  const system = textOf(request.messages[0]?.content);
  return [...system.matchAll(/key «([^»]+)»/g)].map((m) => m[1]!);
}

/** /hint's one short structured call (named `sales_hint`; in JSON mode, told by its prompt). */
export function isHintRequest(request: RecordedRequest): boolean {
  return request.responseFormat?.type === 'json_schema'
    ? request.responseFormat.json_schema.name === 'sales_hint'
    : textOf(request.messages[0]?.content).includes('попросил подсказку');
}

export function isJudgeRequest(request: RecordedRequest): boolean {
  return request.responseFormat !== undefined && request.responseFormat.type !== 'text' && !isHintRequest(request);
}

/** A valid /hint answer drawing on the first passage it was given. */
export const hintAdvice = (): string =>
  JSON.stringify({ advice: 'Спросите, с чем клиент сравнивает цену.', phrase: 'Дорого по сравнению с чем?', source: 1 });

/** The trainee's lines in the transcript the judge was given (`Менеджер: …`), as it received them. */
export function traineeLinesOf(request: RecordedRequest): string[] {
  const input = textOf(request.messages.find((m) => m.role === 'user')?.content);
  const transcript = /<transcript>\n([\s\S]*?)\n<\/transcript>/.exec(input)?.[1] ?? '';
  return transcript
    .split('\n')
    .filter((line) => line.startsWith('Менеджер: '))
    .map((line) => line.slice('Менеджер: '.length));
}

/**
 * A valid verdict for whatever rubric the judge was given, every criterion scored `score`. Its
 * evidence quotes the trainee's first line, so it survives the judge's check against the dialogue.
 */
export function judgeVerdict(request: RecordedRequest, score = 70, extra: Partial<Record<string, unknown>> = {}): string {
  const first = traineeLinesOf(request)[0];
  const evidence = first === undefined ? '' : `«${first}»`;
  return JSON.stringify({
    criteria: rubricKeysOf(request).map((key) => ({ key, score, evidence, comment: 'Хорошо' })),
    facts: [],
    strengths: ['Вежливо поздоровался'],
    mistakes: ['«Это недорого» — цена не названа'],
    recommendations: ['Назовите цену тарифа «Бизнес» при оплате за год'],
    summary: 'Уверенный разговор',
    ...extra,
  });
}

/** The last thing the trainee said, as the model received it. */
export function lastTraineeLine(request: RecordedRequest): string {
  const users = request.messages.filter((m) => m.role === 'user');
  return textOf(users.at(-1)?.content);
}

/** A model that plays the client (echoing a marker of the trainee's line) and judges validly. */
export function scriptedModel(
  clientReply: (request: RecordedRequest) => Reply = (r) => `Клиент отвечает на: ${lastTraineeLine(r)}`,
) {
  return (request: RecordedRequest): Reply =>
    isHintRequest(request) ? hintAdvice() : isJudgeRequest(request) ? judgeVerdict(request) : clientReply(request);
}
