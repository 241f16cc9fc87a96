import { describe, expect, it } from 'vitest';
import { loadScenarios, type Scenario } from '../../src/services/scenarios.js';
import { coldCall, fakeServices, upsell } from './fakes.js';
import { createHarness } from './harness.js';

const menuOutdated = { text: 'Это меню устарело. Откройте новое: /scenarios', show_alert: true };

/** Scenarios with their client cards; the cold call's facts carry characters HTML must escape. */
const coldCallWithCard: Scenario = {
  ...coldCall,
  language: 'ru',
  brief: {
    who: 'Ирина Сергеевна Ковалёва, владелица сети',
    company: '«Уютный дом» <4 салона> & склад',
    known: ['Заявку не оставляла: звонок холодный', 'На сайте 12 продавцов-дизайнеров'],
    goal: 'Договориться о демонстрации с датой и временем',
  },
};
const upsellWithCard: Scenario = {
  ...upsell,
  language: 'ru',
  brief: { who: 'Наталья Викторовна Орлова', company: '«Лайм», 3 студии', known: ['Тариф «Старт», 9 из 10 пользователей'] },
};
const englishScenario: Scenario = { ...upsellWithCard, key: 'english-call', title: 'Call in English', language: 'en' };

const coldCallCard =
  '🗂 <b>Карточка клиента</b>\n' +
  '<b>На линии:</b> Ирина Сергеевна Ковалёва, владелица сети\n' +
  '<b>Компания:</b> «Уютный дом» &lt;4 салона&gt; &amp; склад\n' +
  '\n' +
  '<b>Что вы знаете:</b>\n' +
  '• Заявку не оставляла: звонок холодный\n' +
  '• На сайте 12 продавцов-дизайнеров\n' +
  '\n' +
  '<b>Ваша задача:</b> Договориться о демонстрации с датой и временем';

const upsellCard =
  '🗂 <b>Карточка клиента</b>\n' +
  '<b>На линии:</b> Наталья Викторовна Орлова\n' +
  '<b>Компания:</b> «Лайм», 3 студии\n' +
  '\n' +
  '<b>Что вы знаете:</b>\n' +
  '• Тариф «Старт», 9 из 10 пользователей';

function trainee(options: { scenarios?: readonly Scenario[]; languageCode?: string } = {}) {
  const bot = createHarness({ services: fakeServices({ scenarios: options.scenarios ?? [coldCallWithCard, upsellWithCard] }) });
  const user = bot.services.access.allow(7001);
  return { bot, user, anna: bot.user(7001, { languageCode: options.languageCode }), training: bot.services.training };
}

describe('choosing a scenario', () => {
  it('menu → scenario → difficulty: the training starts and the client speaks first', async () => {
    const { anna, user, training } = trainee();
    expect((await anna.send('/scenarios')).texts).toEqual(['Выберите сценарий тренировки:']);

    const levels = await anna.press('sc:cold-call');
    expect(levels.callbackAnswers).toEqual([{}]);
    expect(levels.texts).toEqual(['«Холодный звонок»\nПервый звонок директору сети салонов.\n\nВыберите уровень сложности:']);
    expect(levels.buttons).toEqual([
      { text: 'Лёгкий', data: 'sd:cold-call:easy' },
      { text: 'Средний', data: 'sd:cold-call:medium' },
      { text: 'Сложный', data: 'sd:cold-call:hard' },
    ]);

    const started = await anna.press('sd:cold-call:medium');
    expect(started.callbackAnswers).toEqual([{}]);
    expect(started.texts).toEqual([
      'Тренировка «Холодный звонок» (Средний) началась.\n' +
        'Клиент пишет первым — отвечайте, как в настоящей переписке. Закончить и получить оценку: /finish',
      coldCallCard,
      'Алло, слушаю. Кто это?',
    ]);
    // The card is HTML (the scenario's text escaped); the client's line is plain text.
    expect(started.messages.map((m) => m.parse_mode)).toEqual([undefined, 'HTML', undefined]);
    expect(training.callsOf('start')).toEqual([[user.id, 'cold-call', 'medium']]);
    // The opening line is marked delivered once Telegram took it: a crash before that sends it again.
    expect(training.callsOf('markReplyDelivered')).toEqual([training.openingLineIds]);
  });

  it('a shipped scenario: the card tells what the rubric scores, before the client speaks', async () => {
    const { anna } = trainee({ scenarios: (await loadScenarios('scenarios')).all });
    await anna.send('/scenarios');
    await anna.press('sc:upsell');

    const started = await anna.press('sd:upsell:easy');

    expect(started.texts).toHaveLength(3);
    expect(started.texts[0]).toContain('Тренировка «Расширение тарифа» (Лёгкий) началась.');
    expect(started.texts[1]).toBe(
      '🗂 <b>Карточка клиента</b>\n' +
        '<b>На линии:</b> Наталья Викторовна Орлова, управляющая и совладелица сети\n' +
        '<b>Компания:</b> «Лайм», 3 студии красоты в Новосибирске; клиент «Сделки+» 11 месяцев\n' +
        '\n' +
        '<b>Что вы знаете:</b>\n' +
        '• Тариф «Старт», помесячная оплата: 9 пользователей × 750 ₽ = 6 750 ₽ в месяц\n' +
        '• Лимиты почти исчерпаны: 9 из 10 пользователей, 9 600 из 10 000 контактов, заняты все 5 автоматизаций\n' +
        '• Подключён один канал мессенджера — WhatsApp\n' +
        '• Тест-драйв «Бизнеса» «Лайм» ещё не включал\n' +
        '• В соцсетях «Лайма» объявили: скоро откроется четвёртая студия\n' +
        '\n' +
        '<b>Ваша задача:</b> Начать с роста клиента, выяснить планы и трудности, честно сравнить варианты в рублях ' +
        'и договориться о переходе на «Бизнес» или о тест-драйве с конкретной датой.',
    );
    expect(started.texts[2]).toBe('Да, Наталья, слушаю. Вы по какому вопросу? Если насчёт оплаты — я вроде всё оплатила.');
  });

  it('a button of a scenario that no longer exists says the menu is outdated', async () => {
    const { anna, training } = trainee();

    const reaction = await anna.pressForged('sd:retired-scenario:easy');

    expect(reaction.callbackAnswers).toEqual([menuOutdated]);
    expect(reaction.texts).toEqual([]);
    expect(training.callsOf('start')).toEqual([]);
  });
});

describe('the language of the scenarios', () => {
  const russianNote = 'The scenarios are in Russian: the client speaks Russian and the evaluation is written in Russian.';

  it('an English-speaking trainee is told in English that the scenarios are in Russian, in the menu and before the levels', async () => {
    const { anna } = trainee({ languageCode: 'en' });

    expect((await anna.send('/scenarios')).texts).toEqual([`${russianNote}\n\nChoose a training scenario:`]);
    expect((await anna.press('sc:cold-call')).texts).toEqual([
      'This scenario is in Russian: the client speaks Russian and the evaluation is written in Russian.\n\n' +
        '“Холодный звонок”\nПервый звонок директору сети салонов.\n\nChoose the difficulty:',
    ]);
  });

  it('an English-speaking trainee gets the card with English labels and the facts as the scenario has them', async () => {
    const { anna } = trainee({ languageCode: 'en' });

    await anna.send('/scenarios');
    await anna.press('sc:upsell');
    const started = await anna.press('sd:upsell:easy');

    expect(started.texts).toEqual([
      'Training “Расширение тарифа” (Лёгкий) has started.\n' +
        'The client speaks first — answer as you would in a real conversation. Finish and get your score: /finish',
      '🗂 <b>Client card</b>\n' +
        '<b>On the line:</b> Наталья Викторовна Орлова\n' +
        '<b>Company:</b> «Лайм», 3 студии\n' +
        '\n' +
        '<b>What you know:</b>\n' +
        '• Тариф «Старт», 9 из 10 пользователей',
      'Здравствуйте, у нас вопрос по тарифу.',
    ]);
  });

  it('a Russian-speaking trainee gets no note about Russian scenarios', async () => {
    const { anna } = trainee();

    expect((await anna.send('/scenarios')).texts).toEqual(['Выберите сценарий тренировки:']);
    expect((await anna.press('sc:cold-call')).texts).toEqual([
      '«Холодный звонок»\nПервый звонок директору сети салонов.\n\nВыберите уровень сложности:',
    ]);
  });

  it('when only some scenarios are in another language, the menu names them, in each reader’s language', async () => {
    const scenarios = [coldCallWithCard, upsellWithCard, englishScenario];
    const { anna } = trainee({ scenarios });
    const { anna: john } = trainee({ scenarios, languageCode: 'en' });

    expect((await anna.send('/scenarios')).texts).toEqual([
      'Язык сценариев «Call in English» — английский: на нём говорит клиент и пишется оценка.\n\n' +
        'Выберите сценарий тренировки:',
    ]);
    expect((await anna.press('sc:english-call')).texts[0]).toMatch(
      /^Язык этого сценария — английский: на нём говорит клиент и пишется оценка\.\n\n«Call in English»/,
    );
    expect((await john.send('/scenarios')).texts).toEqual([
      'These scenarios are in Russian: “Холодный звонок”, “Расширение тарифа”. ' +
        'In them the client speaks Russian and the evaluation is written in Russian.\n\n' +
        'Choose a training scenario:',
    ]);
    expect((await john.press('sc:english-call')).texts[0]).toBe(
      '“Call in English”\nКлиент на базовом тарифе, ему тесно.\n\nChoose the difficulty:',
    );
  });
});

describe('choosing a scenario while another training runs', () => {
  async function askedToSwitch() {
    const context = trainee();
    context.training.givenActive(context.user.id, 'cold-call', 'easy', ['Добрый день!']);
    await context.anna.send('/scenarios');
    await context.anna.press('sc:upsell');
    const question = await context.anna.press('sd:upsell:hard');
    return { ...context, question };
  }

  it('asks first, with a button for each answer, and starts nothing yet', async () => {
    const { question, training } = await askedToSwitch();

    expect(question.texts).toEqual(['У вас идёт тренировка «Холодный звонок». Прервать её и начать «Расширение тарифа»?']);
    expect(question.buttons).toEqual([
      { text: 'Да, начать новую', data: 'switch:yes' },
      { text: 'Нет, продолжить', data: 'switch:no' },
    ]);
    expect(training.callsOf('start')).toEqual([]);
  });

  it('"no" keeps the running training and takes the buttons away', async () => {
    const { anna, user, training } = await askedToSwitch();

    const kept = await anna.press('switch:no');

    expect(kept.methods).toEqual(['answerCallbackQuery', 'editMessageReplyMarkup', 'sendMessage']);
    expect(kept.texts).toEqual(['Продолжаем «Холодный звонок». Клиент ждёт вашего ответа.']);
    expect(training.activeOf(user.id)?.scenario.key).toBe('cold-call');
    expect(training.callsOf('abandon')).toEqual([]);
    expect(() => anna.press('switch:yes')).toThrow(/sees no button/);
  });

  it('"yes" abandons the running training and starts the chosen one', async () => {
    const { anna, user, training } = await askedToSwitch();

    const switched = await anna.press('switch:yes');

    expect(switched.methods.slice(0, 2)).toEqual(['answerCallbackQuery', 'editMessageReplyMarkup']);
    expect(switched.texts).toEqual([
      'Тренировка «Холодный звонок» прервана и не будет оцениваться.',
      'Тренировка «Расширение тарифа» (Сложный) началась.\n' +
        'Клиент пишет первым — отвечайте, как в настоящей переписке. Закончить и получить оценку: /finish',
      upsellCard,
      'Здравствуйте, у нас вопрос по тарифу.',
    ]);
    expect(training.callsOf('abandon')).toEqual([[user.id]]);
    expect(training.callsOf('start')).toEqual([[user.id, 'upsell', 'hard']]);
    expect(training.activeOf(user.id)?.scenario.key).toBe('upsell');
  });

  it('a text instead of an answer leaves the question and is played as a turn of the running training', async () => {
    const { anna, user, training } = await askedToSwitch();

    const turn = await anna.send('Продолжим разговор');

    expect(turn.texts).toEqual(['Клиент отвечает на: Продолжим разговор']);
    expect(training.callsOf('playTurn')).toEqual([
      [{ userId: user.id, text: 'Продолжим разговор', telegramMessageId: expect.any(Number) as unknown }],
    ]);
    // The question is no longer open: its buttons are outdated, and nothing is abandoned.
    expect((await anna.press('switch:yes')).callbackAnswers).toEqual([menuOutdated]);
    expect(training.activeOf(user.id)?.scenario.key).toBe('cold-call');
  });

  it('a command instead of an answer leaves the question and runs as usual', async () => {
    const { bot, anna, training, user } = await askedToSwitch();

    const help = await anna.send('/help');

    expect(help.texts).toEqual([bot.t('help')]);
    expect((await anna.press('switch:no')).callbackAnswers).toEqual([menuOutdated]);
    expect(training.activeOf(user.id)?.scenario.key).toBe('cold-call');
  });

  it('another pick asks again about the newest choice', async () => {
    const { anna } = await askedToSwitch();

    const again = await anna.press('sd:upsell:easy');
    expect(again.texts).toEqual(['У вас идёт тренировка «Холодный звонок». Прервать её и начать «Расширение тарифа»?']);

    const switched = await anna.press('switch:yes');
    expect(switched.texts[1]).toContain('«Расширение тарифа» (Лёгкий) началась');
  });
});
