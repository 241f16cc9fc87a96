import type { BotServices } from '../bot/services.js';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { createConversationStore, type ConversationStore } from '../db/queries/conversation-states.js';
import type { Logger } from '../logger.js';
import {
  instrumentChatModel,
  instrumentJudge,
  instrumentSpeechToText,
  instrumentTextToSpeech,
  type Metrics,
} from '../metrics.js';
import { createAccessService } from './access.js';
import { AssignmentService } from './assignments.js';
import { programCatalog, type ProgramCatalog } from './programs.js';
import { createPersonErasure, type PeopleCaches } from './erase-person.js';
import { createJudge } from './judge.js';
import type { KnowledgeBase } from './knowledge-base/index.js';
import { createHintService } from './hints.js';
import { knowledgeForPrompts } from './knowledge-base/prompt-knowledge.js';
import { createChatModel, type ChatModel } from './llm.js';
import type { ScenarioCatalog } from './scenarios.js';
import type { AlertSink } from './sheets/outage-monitor.js';
import { createSheetsExport, type SheetsExport } from './sheets/sheets-export.js';
import { createSpeechToText, type SpeechToText } from './speech-to-text.js';
import { createTeamService } from './team.js';
import { ChartRenderer } from './charts/index.js';
import { createTextToSpeech, type TextToSpeech } from './text-to-speech.js';
import { TrainingService } from './training/index.js';
import { createVoiceModeService } from './voice-mode.js';
import { UsageLedger } from './usage.js';
import { TurnLimits } from '../bot/helpers/turn-limits.js';

/** The part of the configuration the service graph reads. */
export type ServicesConfig = Pick<Config, 'openai' | 'speech' | 'access' | 'sheets' | 'teamTimeZone' | 'limits'> &
  Partial<Pick<Config, 'assignments'>>;

/**
 * What the graph is built on. Everything with a lifecycle (the database, the knowledge base) is
 * opened and stopped by the caller, so main.ts alone decides the order of start and shutdown.
 */
export interface ServiceDependencies {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly db: Database;
  readonly scenarios: ScenarioCatalog;
  /** The programs of /assign (programs/*.yaml); absent: none. */
  readonly programs?: ProgramCatalog;
  /** Absent: role-play and judging without retrieval, and no /hint. */
  readonly knowledgeBase?: Pick<KnowledgeBase, 'retriever'>;
  /** Where the sheet export's operator alerts go; main.ts points it at the admins once the bot is up. */
  readonly alertAdmins: AlertSink;
  /**
   * The language model behind the client role and the judge; by default the OpenAI-compatible
   * endpoint of `config.openai`. The bot-turn benchmark passes an in-process one so that the model's
   * own time can be measured and subtracted.
   */
  readonly chatModel?: ChatModel;
  /** Speech-to-text and text-to-speech; by default the endpoints of `config.speech` (the benchmark passes its own). */
  readonly speechToText?: SpeechToText;
  readonly textToSpeech?: TextToSpeech;
}

/** The built graph: what createBot takes, and the parts main.ts still has to start. */
export interface ServiceGraph {
  /** What handlers reach through `ctx.services`. */
  readonly services: BotServices;
  /** The whole training service (`services.training` is the handlers' slice of it): start-up recovery needs the rest. */
  readonly training: TrainingService;
  /** The whole assignment service (`services.assignments` is the handlers' slice): the notice worker needs the rest. */
  readonly assignments: AssignmentService;
  /** Where multi-step flows keep their state (createBot's `conversationStore`). */
  readonly conversationStore: ConversationStore<never>;
  /** The Google Sheets export, built but not started (`worker.start()`); undefined when it is off. */
  readonly sheetsExport: SheetsExport | undefined;
  /** The caches that must forget an erased person (an erasure by another process is announced). */
  readonly peopleCaches: PeopleCaches;
  /** Every model call's tokens and cost, written in batches: main.ts stops it (the last batch) after polling. */
  readonly usage: UsageLedger;
}

/** Builds the domain services, wired to one another, with nothing started and nothing sent anywhere. */
export function createServices(config: ServicesConfig, deps: ServiceDependencies): ServiceGraph {
  const { logger, metrics, db, scenarios, knowledgeBase } = deps;
  const programs = deps.programs ?? programCatalog([]);
  const assignmentsConfig = config.assignments ?? defaultAssignmentsConfig;
  const sheetsExport = createSheetsExport(config, db, logger, (key) => scenarios.find(key)?.title ?? key, deps.alertAdmins, {
    onFailure: () => metrics.countError('sheets'),
    summarySources: { scenarios, programs, defaultPassMark: assignmentsConfig.defaultPassMark, timeZone: config.teamTimeZone },
  });

  const usage = new UsageLedger({ db, limits: config.limits, timeZone: config.teamTimeZone, logger, metrics });
  const chat = instrumentChatModel(
    usage.recording(
      deps.chatModel ??
        createChatModel(
          { apiKey: config.openai.apiKey, baseUrl: config.openai.baseUrl, timeoutMs: config.openai.timeoutMs },
          logger,
        ),
    ),
    metrics,
  );
  const judge = instrumentJudge(
    createJudge({
      model: chat,
      modelName: config.openai.judgeModel,
      logger,
      contextTokens: config.openai.judgeContextTokens,
      temperature: config.openai.judgeTemperature,
    }),
    metrics,
  );
  const { stt, tts, timeoutMs } = config.speech;
  const speechToText = instrumentSpeechToText(
    usage.recordingSpeechToText(
      deps.speechToText ?? createSpeechToText({ apiKey: stt.apiKey, baseUrl: stt.baseUrl, model: stt.model, timeoutMs }, logger),
      stt.model,
    ),
    metrics,
  );
  const textToSpeech = instrumentTextToSpeech(
    usage.recordingTextToSpeech(
      deps.textToSpeech ??
        createTextToSpeech({ apiKey: tts.apiKey, baseUrl: tts.baseUrl, model: tts.model, voice: tts.voice, timeoutMs }),
      tts.model,
    ),
    metrics,
  );
  const training = new TrainingService({
    db,
    scenarios,
    chat,
    judge,
    speechToText,
    clientModel: config.openai.clientModel,
    historyTokenBudget: config.openai.historyTokenBudget,
    knowledge: knowledgeBase ? knowledgeForPrompts(knowledgeBase.retriever) : undefined,
    onEvaluationStored: () => sheetsExport?.worker.notify(),
    metrics,
    logger,
  });

  const access = createAccessService(db, config.access, logger);
  const conversationStore = createConversationStore<never>(db, logger);
  const assignments = new AssignmentService({
    db,
    scenarios,
    programs,
    config: { ...assignmentsConfig, timeZone: config.teamTimeZone },
    onSheetDataChanged: () => sheetsExport?.worker.refreshSummaries(),
    logger,
  });
  const peopleCaches: PeopleCaches = { access, training, conversations: conversationStore };
  return {
    services: {
      access,
      scenarios,
      training,
      speech: textToSpeech,
      voiceMode: createVoiceModeService(db, logger),
      team: createTeamService(db, logger, () => sheetsExport?.worker.refreshSummaries()),
      charts: new ChartRenderer(logger),
      hints: knowledgeBase
        ? createHintService({ model: chat, modelName: config.openai.clientModel, retriever: knowledgeBase.retriever, logger })
        : undefined,
      assignments,
      erase: createPersonErasure({ db, sheet: sheetsExport?.sheet, logger, caches: peopleCaches }),
      limits: new TurnLimits(config.limits, usage, metrics),
    },
    assignments,
    training,
    conversationStore,
    sheetsExport,
    peopleCaches,
    usage,
  };
}

/** DEFAULT_PASS_MARK and the rest at their defaults (for callers whose config predates them). */
const defaultAssignmentsConfig = {
  defaultPassMark: 80,
  reminderBeforeHours: 24,
  quietHours: { start: 21, end: 9 },
  digestWeekday: 1,
  digestHour: 9,
};
