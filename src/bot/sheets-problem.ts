import type { SheetsAlert, SheetsProblem } from '../services/sheets/outage-monitor.js';

type Translate = (key: string, variables?: Record<string, string | number>) => string;

/** What went wrong with the managers' sheet and what to do, in the reader's language. */
export function sheetsProblemText(t: Translate, problem: SheetsProblem): string {
  const account = (value: string | undefined) => value ?? t('sheets-problem-the-account');
  switch (problem.kind) {
    case 'key-unreadable':
      return t('sheets-problem-key-unreadable', { keyFile: problem.keyFile });
    case 'key-rejected':
      return t('sheets-problem-key-rejected', { account: account(problem.account), keyFile: problem.keyFile });
    case 'api-disabled':
      return t('sheets-problem-api-disabled', { account: account(problem.account) });
    case 'no-access':
      return t('sheets-problem-no-access', { account: account(problem.account) });
    case 'spreadsheet-missing':
      return t('sheets-problem-spreadsheet-missing', { spreadsheetId: problem.spreadsheetId });
    case 'other':
      return problem.message;
    default: {
      const unreachable: never = problem;
      throw new Error(`unknown sheets problem ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The admins' message about the export. */
export function sheetsAlertText(t: Translate, alert: SheetsAlert): string {
  switch (alert.kind) {
    case 'stopped':
      return t('sheets-alert-stopped', { problem: sheetsProblemText(t, alert.problem) });
    case 'resumed':
      return t('sheets-alert-resumed');
    default: {
      const unreachable: never = alert;
      throw new Error(`unknown sheets alert ${JSON.stringify(unreachable)}`);
    }
  }
}
