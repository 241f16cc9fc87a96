import { describe, expect, it } from 'vitest';
import { KnowledgeUnavailableError } from '../../src/services/hints.js';
import { fakeServices } from './fakes.js';
import { createHarness, type HarnessOptions } from './harness.js';
import { WARN } from '../support/log-capture.js';

function inTraining(options: HarnessOptions = {}) {
  const bot = createHarness(options);
  const user = bot.services.access.allow(7001);
  const active = bot.services.training.givenActive(user.id, 'cold-call', 'medium');
  return { bot, active, anna: bot.user(7001), hints: bot.services.hints!, training: bot.services.training };
}

const dialogue = [
  { role: 'assistant' as const, content: 'Алло, слушаю. Кто это?' },
  { role: 'user' as const, content: 'Добрый день! Меня зовут Анна, компания «Сделка+».' },
  { role: 'assistant' as const, content: 'Нам и в Excel нормально, всё работает.' },
];

describe('/hint', () => {
  it('reads the dialogue so far and shows advice for this moment, a phrase to try and the source', async () => {
    const { anna, hints, training, active } = inTraining();
    training.messagesSoFar = dialogue;
    hints.answer = {
      kind: 'advice',
      advice: 'Не спорьте с Excel: спросите, что происходит с заявками, пришедшими вечером и в выходные.',
      phrase: 'А как вы сейчас узнаёте, что заявку из WhatsApp никто не взял в работу?',
      source: 'objections.md › «Нам и в Excel нормально»',
    };

    const reaction = await anna.send('/hint');

    expect(hints.requests).toEqual([{ scenario: active.scenario, difficulty: 'medium', dialogue, readerLanguage: 'ru' }]);
    expect(reaction.methods).toEqual(['sendMessage', 'sendChatAction', 'sendMessage']);
    expect(reaction.callsOf('sendChatAction')).toEqual([{ chat_id: 7001, action: 'typing' }]);
    expect(reaction.texts).toEqual([
      '⏳ Подбираю подсказку к этому моменту разговора…',
      [
        '💡 Подсказка',
        '',
        'Не спорьте с Excel: спросите, что происходит с заявками, пришедшими вечером и в выходные.',
        '',
        'Попробуйте сказать: «А как вы сейчас узнаёте, что заявку из WhatsApp никто не взял в работу?»',
        '',
        'Источник: objections.md › «Нам и в Excel нормально»',
      ].join('\n'),
    ]);
    expect(reaction.messages.map((message) => message.parse_mode)).toEqual([undefined, undefined]);
  });

  it('never makes the hint a turn of the dialogue', async () => {
    const { anna, hints, training } = inTraining();
    training.messagesSoFar = dialogue;
    hints.answer = { kind: 'advice', advice: 'Спросите о заявках.', phrase: 'Как у вас с заявками?', source: 'sales-script.md' };

    await anna.send('/hint');

    expect(training.calls.map((call) => call.method)).toEqual(['active', 'dialogueSoFar']);
  });

  it('sends what the model wrote as it is, markup and all', async () => {
    const { anna, hints } = inTraining();
    hints.answer = {
      kind: 'advice',
      advice: 'Скажите <b>цену</b> & условия',
      phrase: '<i>Тариф «Бизнес»</i>',
      source: 'sales-script.md › <Цены>',
    };

    const reaction = await anna.send('/hint');

    expect(reaction.messages[1]!.parse_mode).toBeUndefined();
    expect(reaction.texts[1]).toBe(
      '💡 Подсказка\n\nСкажите <b>цену</b> & условия\n\nПопробуйте сказать: «<i>Тариф «Бизнес»</i>»\n\nИсточник: sales-script.md › <Цены>',
    );
  });

  it('shows the passage itself, with its source, when the model could not advise', async () => {
    const { anna, hints } = inTraining();
    hints.answer = {
      kind: 'passage',
      text: 'Не спорьте и не критикуйте нынешнюю систему.\n\n• «Как вы сейчас узнаёте о заявке, пришедшей в субботу вечером?»',
      source: 'objections.md › «Нам и в Excel нормально»',
    };

    const reaction = await anna.send('/hint');

    expect(reaction.texts.at(-1)).toBe(
      [
        '💡 Подсказка из базы знаний',
        '',
        'Не спорьте и не критикуйте нынешнюю систему.',
        '',
        '• «Как вы сейчас узнаёте о заявке, пришедшей в субботу вечером?»',
        '',
        'Источник: objections.md › «Нам и в Excel нормально»',
      ].join('\n'),
    );
  });

  it('says when nothing in the knowledge base fits', async () => {
    const { anna } = inTraining();

    expect((await anna.send('/hint')).texts).toEqual([
      '⏳ Подбираю подсказку к этому моменту разговора…',
      'В базе знаний не нашлось ничего к этому моменту разговора.\nПопробуйте попросить подсказку после следующей реплики клиента.',
    ]);
  });

  it('says the knowledge base is unavailable when it is down, and logs a warning', async () => {
    const { bot, anna, hints } = inTraining();
    hints.answer = new KnowledgeUnavailableError();

    const reaction = await anna.send('/hint');

    expect(reaction.texts).toEqual([
      '⏳ Подбираю подсказку к этому моменту разговора…',
      'База знаний сейчас недоступна, попробуйте позже.',
    ]);
    expect(
      bot
        .logs()
        .filter((line) => line.level === WARN)
        .map((line) => line.msg),
    ).toEqual(['hint: knowledge base unavailable']);
  });

  it('says the same, without waiting, when the bot runs without a knowledge base', async () => {
    const { anna, training } = inTraining({ services: fakeServices({ hints: false }) });

    expect((await anna.send('/hint')).texts).toEqual(['База знаний сейчас недоступна, попробуйте позже.']);
    expect(training.callsOf('dialogueSoFar')).toEqual([]);
  });

  it('is only for a running training', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);

    expect((await bot.user(7001).send('/hint')).texts).toEqual(['Подсказки доступны во время тренировки. Начать: /scenarios']);
    expect(bot.services.hints!.requests).toEqual([]);
  });

  it('speaks English to an English-speaking trainee', async () => {
    const bot = createHarness();
    const user = bot.services.access.allow(7002);
    bot.services.training.givenActive(user.id, 'cold-call');
    bot.services.hints!.answer = {
      kind: 'advice',
      advice: 'Ask how leads are handled.',
      phrase: 'How do you track leads now?',
      source: 'sales-script.md',
    };

    const reaction = await bot.user(7002, { languageCode: 'en' }).send('/hint');

    expect(reaction.texts).toEqual([
      '⏳ Finding a hint for this moment of the conversation…',
      '💡 Hint\n\nAsk how leads are handled.\n\nTry saying: “How do you track leads now?”\n\nSource: sales-script.md',
    ]);
    // The advice comes in the trainee's language; the phrase stays in the scenario's (the client's).
    expect(bot.services.hints!.requests.map((r) => r.readerLanguage)).toEqual(['en']);
  });
});
