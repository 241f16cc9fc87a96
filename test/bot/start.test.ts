import { describe, expect, it } from 'vitest';
import { fakeServices } from './fakes.js';
import { createHarness } from './harness.js';

describe('/start', () => {
  it('greets the trainee by name and shows one button per scenario', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);
    const anna = bot.user(7001, { firstName: 'Анна' });

    const reaction = await anna.send('/start');

    expect(reaction.texts).toEqual([
      'Здравствуйте, Анна! Это тренажёр продаж.\n' +
        'Вы выбираете сценарий, а ИИ играет клиента. Когда закончите разговор, отправьте /finish — получите оценку, сильные стороны, ошибки и советы.',
      'Выберите сценарий тренировки:',
    ]);
    expect(reaction.buttons).toEqual([
      { text: 'Холодный звонок', data: 'sc:cold-call' },
      { text: 'Расширение тарифа', data: 'sc:upsell' },
    ]);
  });

  it('says so when there are no scenarios yet, instead of an empty menu', async () => {
    const bot = createHarness({ services: fakeServices({ scenarios: [] }) });
    bot.services.access.allow(7001);

    const reaction = await bot.user(7001).send('/start');

    expect(reaction.texts.at(-1)).toBe('Сценариев пока нет. Сообщите администратору.');
    expect(reaction.buttons).toEqual([]);
  });
});

describe('/help', () => {
  it('shows a trainee the commands of a training', async () => {
    const bot = createHarness();
    bot.services.access.allow(7001);

    const reaction = await bot.user(7001).send('/help');

    expect(reaction.texts).toEqual([bot.t('help')]);
    expect(reaction.texts[0]).toContain('/finish — завершить тренировку и получить оценку');
    expect(reaction.texts[0]).not.toContain('/team');
  });

  it('shows a manager the team commands as well', async () => {
    const bot = createHarness();
    bot.services.access.allow(7002, { role: 'manager' });

    const reaction = await bot.user(7002).send('/help');

    expect(reaction.texts).toEqual([`${bot.t('help')}\n\n${bot.t('help-managers')}`]);
    expect(reaction.texts[0]).toContain('/team — результаты команды');
    expect(reaction.texts[0]).toContain('/invite — создать приглашение');
    expect(reaction.texts[0]).not.toContain('/erase');
  });

  it('shows an admin how to erase a person as well', async () => {
    const bot = createHarness();
    bot.services.access.allow(7003, { role: 'admin' });

    const reaction = await bot.user(7003).send('/help');

    expect(reaction.texts).toEqual([`${bot.t('help')}\n\n${bot.t('help-managers')}\n\n${bot.t('help-admins')}`]);
    expect(reaction.texts[0]).toContain('/erase <Telegram id> — стереть все данные сотрудника (с подтверждением)');
  });
});
