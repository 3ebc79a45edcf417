/**
 * Shapes of the console API's answers as the UI reads them (docs/console-api.md). Only the fields
 * the UI uses; the server's zod schemas are the authority.
 */

export type Level = 1 | 2 | 3;
export type Status = 'open' | 'acknowledged' | 'closed';
export type Role = 'admin' | 'analyst' | 'duty';
export type Language = 'zh-CN' | 'en';

export interface User {
  name: string;
  role: Role;
  display_name?: string;
  language?: Language;
}

export interface Session {
  user: User;
  csrf_token: string;
}

export interface Settings {
  language: Language;
  time_zone: string;
  version: string;
}

export interface HistoryEntry {
  at: string;
  action: string;
  by: string;
  note?: string;
  from_level?: Level;
  to_level?: Level;
  via?: string;
}

export interface Alert {
  id: string;
  topic: string;
  topic_name?: string;
  level: Level;
  level_reasons?: string[];
  status: Status;
  title: string;
  first_seen_at: string;
  last_seen_at: string;
  opened_at: string;
  updated_at: string;
  doc_count: number;
  sources: string[];
  platforms: string[];
  total_reposts: number;
  total_comments?: number;
  growth_per_hour?: number;
  sentiment?: number;
  severity_words?: string[];
  assignee?: string;
  history: HistoryEntry[];
  version?: string;
}

export interface Hit {
  field: 'title' | 'text';
  start: number;
  end: number;
  keyword?: string;
}

export interface AlertDocument {
  id: string;
  platform: string;
  source: string;
  url: string;
  title: string;
  text: string;
  author?: string;
  published_at: string;
  metrics?: { reposts?: number; comments?: number; likes?: number };
  sentiment?: number;
  parent_id?: string;
  hits: Hit[];
}

export interface Page<T> {
  total: number;
  items: T[];
}

export interface Bucket {
  key: string;
  documents: number;
  reposts: number;
}

export interface Delivery {
  id: string;
  person: string;
  channel: string;
  recipient: string;
  attempt: number;
  status: 'sent' | 'failed' | 'held';
  error?: string;
  latency_ms: number;
  at: string;
}

export interface Review {
  moments: Record<string, string | undefined | null>;
  durations_ms: Record<string, number | undefined | null>;
  curve: Bucket[];
  interval?: 'hour' | 'day';
}
