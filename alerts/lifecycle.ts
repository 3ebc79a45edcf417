import { ShaobingError } from '../core/errors';
import type { Alert, AlertHistoryEntry, AlertStatus, Level } from '../core/records';

/**
 * What people and the pipeline may do to an alert, as a table of legal transitions (in the manner
 * of kafkajs' transaction state machine) plus one guard. Every action appends a history entry:
 * the history is the incident record (舆情台账) the emergency plan asks for.
 */

export const ALERT_ACTIONS = ['acknowledge', 'assign', 'note', 'change_level', 'close', 'reopen'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

/** From each status, the status an action leads to; a missing entry is an illegal move. */
const TRANSITIONS: Record<AlertAction, Partial<Record<AlertStatus, AlertStatus>>> = {
  acknowledge: { open: 'acknowledged' },
  assign: { open: 'open', acknowledged: 'acknowledged' },
  note: { open: 'open', acknowledged: 'acknowledged', closed: 'closed' },
  change_level: { open: 'open', acknowledged: 'acknowledged' },
  close: { open: 'closed', acknowledged: 'closed' },
  reopen: { closed: 'open' },
};

const HISTORY_ACTION: Record<AlertAction, AlertHistoryEntry['action']> = {
  acknowledge: 'acknowledged',
  assign: 'assigned',
  note: 'noted',
  change_level: 'level_changed',
  close: 'closed',
  reopen: 'reopened',
};

export interface ActionInput {
  action: AlertAction;
  /** A user name, a duty person's id, or `system`. */
  by: string;
  at: string;
  /** Required for close (the summary), change_level and reopen (the reason), and note. */
  note?: string;
  /** For change_level. */
  level?: Level;
  /** For assign. */
  assignee?: string;
  /** How it arrived: console, link, sms-reply… */
  via?: string;
}

const NEEDS_NOTE: ReadonlySet<AlertAction> = new Set(['close', 'change_level', 'reopen', 'note']);

export function canApply(status: AlertStatus, action: AlertAction): boolean {
  return TRANSITIONS[action][status] !== undefined;
}

/** Pure: returns the alert after the action, or throws SB_ALERT_TRANSITION naming what is wrong. */
export function applyAction(alert: Alert, input: ActionInput): Alert {
  const next = TRANSITIONS[input.action][alert.status];
  const refuse = (why: string) => {
    throw new ShaobingError('SB_ALERT_TRANSITION', `cannot ${input.action} alert ${alert.id}: ${why}`);
  };
  if (next === undefined) refuse(`it is ${alert.status}`);
  if (NEEDS_NOTE.has(input.action) && !input.note?.trim()) refuse('a note (reason or summary) is required');
  if (input.action === 'change_level' && (input.level === undefined || input.level === alert.level)) refuse('a different level is required');
  if (input.action === 'assign' && !input.assignee?.trim()) refuse('an assignee is required');

  const entry: AlertHistoryEntry = {
    at: input.at,
    action: HISTORY_ACTION[input.action],
    by: input.by,
    ...(input.note ? { note: input.note } : {}),
    ...(input.via ? { via: input.via } : {}),
    ...(input.action === 'change_level' ? { from_level: alert.level, to_level: input.level } : {}),
    ...(input.action === 'assign' ? { note: input.note ?? `assigned to ${input.assignee}` } : {}),
  };
  return {
    ...alert,
    status: next!,
    ...(input.action === 'change_level' ? { level: input.level! } : {}),
    ...(input.action === 'assign' ? { assignee: input.assignee! } : {}),
    // The pipeline reopens a closed alert once its cluster grows past this by the configured amount.
    ...(input.action === 'close' ? { closed_doc_count: alert.doc_count } : {}),
    updated_at: input.at,
    history: [...alert.history, entry],
  };
}
