import { describe, expect, it } from 'vitest';
import { JudgeUnavailableError } from '../../src/services/judge.js';
import { ModelUnavailableError } from '../../src/services/llm.js';
import { defaultEvaluation, type Verdict } from './fakes.js';
import { createHarness } from './harness.js';

/** The fake's evaluation with what the judge stores since it gives reasons (no facts, versions set). */
const judged: Verdict = {
  ...defaultEvaluation,
  facts: [],
  rubricVersion: '0123456789ab',
  promptVersion: 'judge-2026-12-a+ba9876543210',
  judgeTemperature: 0,
};

function inTraining(turns: string[] = ['Добрый день, меня зовут Анна']) {
  const bot = createHarness();
  const user = bot.services.access.allow(7001);
  const active = bot.services.training.givenActive(user.id, 'cold-call', 'medium', turns);
  bot.services.training.judge = () => judged;
  return { bot, user, active, anna: bot.user(7001), training: bot.services.training };
}

describe('/finish', () => {
  it('judges the dialogue and shows the evaluation, score first, as HTML', async () => {
    const { anna, user, active, training } = inTraining();

    const reaction = await anna.send('/finish');

    expect(reaction.methods).toEqual(['sendMessage', 'sendChatAction', 'sendMessage']);
    expect(reaction.texts[0]).toBe('Оцениваю диалог, это займёт до минуты…');
    expect(reaction.messages[1]?.parse_mode).toBe('HTML');
    expect(reaction.texts[1]).toBe(
      [
        '<b>70/100</b>',
        '«Холодный звонок», уровень: Средний',
        '<i>Практика — эта тренировка не входит в задания.</i>',
        '',
        'Хорошее начало, но потребности не выяснены.',
        '',
        '<b>Критерии</b>',
        '• Установление контакта: <b>80</b>/100\n   <i>«Добрый день, меня зовут Анна»</i>',
        '• Выявление потребностей: <b>60</b>/100',
        '',
        '<b>Сильные стороны</b>',
        '• Представилась и назвала компанию',
        '',
        '<b>Ошибки</b>',
        '• «Это недорого» — цена не названа',
        '',
        '<b>Рекомендации</b>',
        '• Спросите, сколько у клиента салонов',
        '',
        'Новая тренировка: /scenarios · История: /history',
      ].join('\n'),
    );
    expect(training.callsOf('finish')).toEqual([[user.id]]);
    expect(training.callsOf('markEvaluationDelivered')).toEqual([[active.session.id]]);
    expect(training.activeOf(user.id)).toBeUndefined();
  });

  it('shows why each criterion got its score, with its quote in italics, and says when a quote was dropped', async () => {
    const { anna, training } = inTraining();
    training.judge = () => ({
      ...judged,
      criteria: [
        {
          key: 'contact',
          title: 'Установление контакта',
          weight: 50,
          score: 80,
          evidence: 'Добрый день, меня зовут Анна',
          comment: 'Представилась, но не спросила, удобно ли говорить.',
          quoteDropped: false,
        },
        {
          key: 'needs',
          title: 'Выявление потребностей',
          weight: 50,
          score: 60,
          evidence: '',
          comment: 'Один открытый вопрос о заявках, без последствий.',
          quoteDropped: true,
        },
      ],
    });

    const reaction = await anna.send('/finish');

    expect(reaction.texts[1]).toContain(
      [
        '<b>Критерии</b>',
        '• Установление контакта: <b>80</b>/100',
        '   Представилась, но не спросила, удобно ли говорить.',
        '   <i>«Добрый день, меня зовут Анна»</i>',
        '• Выявление потребностей: <b>60</b>/100',
        '   Один открытый вопрос о заявках, без последствий.',
        '   ⚠ Цитата судьи не найдена в диалоге — убрана.',
        '',
        '<b>Сильные стороны</b>',
      ].join('\n'),
    );
  });

  it("lists the wrong figures in «Факты»: the trainee's words, what is right, and where it says so", async () => {
    const { anna, training } = inTraining();
    training.judge = () => ({
      ...judged,
      facts: [
        {
          claim: '«900 ₽ за пользователя в месяц»',
          correct: '1 200 ₽ за пользователя в месяц при оплате за год',
          source: 'catalog.md › Тарифы › Тариф «Бизнес»',
        },
        { claim: 'пробный период 30 дней', correct: '14 дней, бесплатно и без карты', source: '' },
      ],
    });

    const reaction = await anna.send('/finish');

    expect(reaction.texts[1]).toContain(
      [
        '',
        '<b>Факты</b>',
        '• «900 ₽ за пользователя в месяц» → 1 200 ₽ за пользователя в месяц при оплате за год (catalog.md › Тарифы › Тариф «Бизнес»)',
        '• «пробный период 30 дней» → 14 дней, бесплатно и без карты',
        '',
        '<b>Сильные стороны</b>',
      ].join('\n'),
    );
  });

  it('has no «Факты» section when every figure was right', async () => {
    const { anna } = inTraining();

    const reaction = await anna.send('/finish');

    expect(reaction.texts[1]).not.toContain('Факты');
  });

  it('escapes what the judge wrote, so that it cannot break the markup', async () => {
    const { anna, training } = inTraining();
    training.judge = () => ({
      ...judged,
      strengths: ['Сказала <b>главное</b> & по делу'],
      facts: [{ claim: '«<b>900</b>»', correct: '1 200 & больше', source: 'catalog.md' }],
    });

    const reaction = await anna.send('/finish');

    expect(reaction.texts[1]).toContain('• Сказала &lt;b&gt;главное&lt;/b&gt; &amp; по делу');
    expect(reaction.texts[1]).toContain('• «&lt;b&gt;900&lt;/b&gt;» → 1 200 &amp; больше (catalog.md)');
  });

  it('says when a long dialogue was judged on its beginning and end', async () => {
    const { anna, training } = inTraining();
    training.judge = () => ({ ...judged, omittedMessages: 122 });

    const reaction = await anna.send('/finish');

    expect(reaction.texts[1]).toContain(
      '<i>Диалог длинный: судья оценил его начало и последние реплики, 122 реплики из середины не вошли в оценку.</i>',
    );
  });

  it('without a running training, says there is nothing to finish', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);

    const reaction = await bot.user(7001).send('/finish');

    expect(reaction.texts).toEqual(['Завершать нечего: активной тренировки нет. Начать новую: /scenarios']);
    expect(bot.services.training.callsOf('finish')).toEqual([]);
  });

  it('when the trainee has not said anything yet, there is nothing to judge', async () => {
    const { anna, user, training } = inTraining([]);

    const reaction = await anna.send('/finish');

    expect(reaction.texts).toEqual([
      'Оцениваю диалог, это займёт до минуты…',
      'В тренировке «Холодный звонок» вы ещё ничего не написали клиенту, оценивать нечего.\n' +
        'Ответьте клиенту или выберите другой сценарий: /scenarios',
    ]);
    expect(training.activeOf(user.id)).toBeDefined();
  });

  it('when the judge is unavailable, says so and keeps the training open for another /finish', async () => {
    const { anna, user, training } = inTraining();
    training.judge = () => {
      throw new JudgeUnavailableError(new ModelUnavailableError('unavailable', '503 from the model'));
    };

    const failed = await anna.send('/finish');

    expect(failed.texts).toEqual([
      'Оцениваю диалог, это займёт до минуты…',
      'Не удалось получить оценку: сервис ИИ сейчас недоступен.\nТренировка не закрыта — повторите /finish через минуту.',
    ]);
    expect(training.activeOf(user.id)?.scenario.key).toBe('cold-call');
    expect(training.callsOf('markEvaluationDelivered')).toEqual([]);

    training.judge = () => ({ ...judged, totalScore: 55 });
    const retried = await anna.send('/finish');
    expect(retried.texts[1]?.split('\n')[0]).toBe('<b>55/100</b>');
    expect(training.activeOf(user.id)).toBeUndefined();
  });
});
