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

export function isJudgeRequest(request: RecordedRequest): boolean {
  return request.responseFormat !== undefined && request.responseFormat.type !== 'text';
}

/** A valid verdict for whatever rubric the judge was given, every criterion scored `score`. */
export function judgeVerdict(request: RecordedRequest, score = 70, extra: Partial<Record<string, unknown>> = {}): string {
  return JSON.stringify({
    criteria: rubricKeysOf(request).map((key) => ({ key, score, evidence: '«Добрый день»', comment: 'Хорошо' })),
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
  return (request: RecordedRequest): Reply => (isJudgeRequest(request) ? judgeVerdict(request) : clientReply(request));
}
