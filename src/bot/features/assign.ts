import type { Conversation } from '@grammyjs/conversations';
import { Composer } from 'grammy';
import type { UserId } from '../../db/ids.js';
import { displayName } from '../../db/queries/users.js';
import { DeadlineError, NotInTeamError, type AssignedWork } from '../../services/assignments.js';
import { difficultyLevels, type Difficulty } from '../../services/scenarios.js';
import type { BotContext, ConversationContext } from '../context.js';
import { dateLocaleOf } from '../helpers/dates.js';
import { askWithButtons, leaveOrRemind } from '../helpers/button-question.js';
import { outside } from '../helpers/outside.js';
import { isAuthed } from '../middleware/access.js';
import { assignCallback } from './tasks.js';
import { isManager } from './team.js';

export const assignConversation = 'assign';

const composer = new Composer<BotContext>();
const feature = composer.chatType('private').filter(isAuthed);

feature.command('assign', async (ctx) => {
  if (!isManager(ctx)) {
    await ctx.reply(ctx.t('assign-not-allowed'));
    return;
  }
  await ctx.conversation.enter(assignConversation);
});

feature.callbackQuery(assignCallback, async (ctx) => {
  await ctx.answerCallbackQuery();
  if (!isManager(ctx)) {
    await ctx.reply(ctx.t('assign-not-allowed'));
    return;
  }
  await ctx.conversation.enter(assignConversation);
});

const passMarkChoices = [60, 70, 90, 100] as const;

/** /assign: what (a scenario or a program), its difficulty and pass mark, the deadline, who — then it is assigned. */
export async function assignFlow(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
): Promise<void> {
  // Who assigns is whoever is in this private chat: the update's own user, read outside the replay.
  const menu = await outside(conversation, async (outer) => {
    const assigner = outer.user!;
    const people = await outer.services.assignments.assignable(assigner);
    return {
      programs: outer.services.assignments.programs.all.map((p) => ({ key: p.key, title: p.title, count: p.items.length })),
      scenarios: outer.services.scenarios.all.map((s) => ({
        key: s.key,
        title: s.title,
        passMark: outer.services.assignments.passMarkOf(s.key),
        labels: Object.fromEntries(difficultyLevels.map((level) => [level, s.difficulties[level].label])) as Record<
          Difficulty,
          string
        >,
      })),
      people: people.map((person) => ({ id: person.id, name: displayName(person) })),
      role: assigner.role,
      timeZone: outer.config.teamTimeZone,
    };
  });
  if (menu.people.length === 0) {
    await ctx.reply(ctx.t('assign-nobody'));
    return;
  }
  if (menu.programs.length + menu.scenarios.length === 0) {
    await ctx.reply(ctx.t('assign-nothing'));
    return;
  }
  const picked = await choose(conversation, ctx, ctx.t('assign-ask-work'), [
    ...menu.programs.map((p) => [ctx.t('assign-program-button', { title: p.title }), `p:${p.key}`] as const),
    ...menu.scenarios.map((s) => [s.title, `s:${s.key}`] as const),
  ]);
  let work: AssignedWork;
  let what: string;
  if (picked.startsWith('p:')) {
    const program = menu.programs.find((p) => `p:${p.key}` === picked)!;
    work = { kind: 'program', programKey: program.key };
    what = ctx.t('assign-done-program', { title: program.title, count: program.count });
  } else {
    const scenario = menu.scenarios.find((s) => `s:${s.key}` === picked)!;
    const difficulty = await choose(
      conversation,
      ctx,
      ctx.t('assign-ask-difficulty', { title: scenario.title }),
      difficultyLevels.map((level) => [scenario.labels[level], level] as const),
    );
    const marks = [scenario.passMark, ...passMarkChoices.filter((mark) => mark !== scenario.passMark)];
    const passMark = await choose(
      conversation,
      ctx,
      ctx.t('assign-ask-pass-mark'),
      marks.map((mark, index) => [index === 0 ? ctx.t('assign-pass-mark-default', { mark }) : String(mark), mark] as const),
    );
    work = { kind: 'scenario', scenarioKey: scenario.key, difficulty, passMark };
    what = ctx.t('assign-done-scenario', { title: scenario.title, difficulty: scenario.labels[difficulty], mark: passMark });
  }

  await ctx.reply(ctx.t('assign-ask-deadline'));
  let dueAt: string | undefined;
  while (dueAt === undefined) {
    const answer = await conversation.waitFor('message:text', {
      otherwise: (other) => leaveOrRemind(conversation, other, 'assign-cancelled', 'assign-ask-deadline'),
    });
    if (answer.message.text.startsWith('/')) {
      if (answer.hasCommand('cancel')) {
        await answer.reply(ctx.t('assign-cancelled'));
        return;
      }
      await conversation.halt({ next: true });
    }
    const parsed = await outside(conversation, (outer) => {
      try {
        return { ok: true as const, dueAt: outer.services.assignments.parseDeadline(answer.message.text).toISOString() };
      } catch (error) {
        if (error instanceof DeadlineError) return { ok: false as const, reason: error.reason };
        throw error;
      }
    });
    if (parsed.ok) dueAt = parsed.dueAt;
    else await answer.reply(ctx.t(parsed.reason === 'past' ? 'assign-deadline-past' : 'assign-deadline-format'));
  }

  const to = await choose(conversation, ctx, ctx.t('assign-ask-who'), [
    [ctx.t('assign-whole-team', { count: menu.people.length }), 'team'],
    ...menu.people.slice(0, 40).map((person) => [person.name, String(person.id)] as const),
  ]);
  const result = await outside(conversation, async (outer) => {
    try {
      const assigned = await outer.services.assignments.assign({
        assigner: outer.user!,
        work,
        dueAt: new Date(dueAt),
        to: to === 'team' ? 'team' : (Number(to) as UserId),
      });
      return {
        ok: true as const,
        assigned: assigned.assigned.map((row) => ({ name: displayName(row.user), inTraining: row.inTraining })),
        already: assigned.alreadyAssigned.map((person) => displayName(person)),
      };
    } catch (error) {
      if (error instanceof NotInTeamError) return { ok: false as const, reason: 'not-in-team' as const };
      if (error instanceof DeadlineError) return { ok: false as const, reason: 'past' as const };
      throw error;
    }
  });
  if (!result.ok) {
    await ctx.reply(ctx.t(result.reason === 'past' ? 'assign-deadline-past' : 'assign-not-in-team'));
    return;
  }
  const due = new Intl.DateTimeFormat(await dateLocaleOf(ctx), {
    timeZone: menu.timeZone,
    dateStyle: 'short',
    timeStyle: 'short',
  }).format(new Date(dueAt));
  const lines: string[] = [];
  if (result.assigned.length > 0) {
    lines.push(ctx.t('assign-done', { what, due, people: result.assigned.map((row) => row.name).join(', ') }));
    const busy = result.assigned.filter((row) => row.inTraining).map((row) => row.name);
    if (busy.length > 0) lines.push(ctx.t('assign-in-training', { people: busy.join(', ') }));
  } else {
    lines.push(ctx.t('assign-none-new'));
  }
  if (result.already.length > 0) lines.push(ctx.t('assign-already', { people: result.already.join(', ') }));
  await ctx.reply(lines.join('\n\n'));
}

/** Asks with one button per option, one per row, and returns the chosen value. */
function choose<T extends string | number>(
  conversation: Conversation<BotContext, ConversationContext>,
  ctx: ConversationContext,
  question: string,
  options: ReadonlyArray<readonly [label: string, value: T]>,
): Promise<T> {
  return askWithButtons(conversation, ctx, question, options, {
    dataOf: (index) => `as:${index}`,
    layout: 'column',
    cancelledKey: 'assign-cancelled',
    chooseButtonKey: 'assign-choose-button',
  });
}

export const assignFeature = composer;
