// A plan's terms as one plain sentence, the way a venue would say them at the counter:
// "Mon–Fri 07:00–15:00, 2 GB per day, 30 days". The plan editor shows it as the form
// changes, the plan list and the voucher screen beside each plan. Times are the site's own.

import { duration } from "./format";
import { lang, t } from "./i18n";
import type { Day, PlanPause, PlanWindow, QuotaPeriod } from "./ui";

export const DAYS: Day[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** What the sentence is made from: a plan, or the editor's form read as numbers. */
export interface PlanTerms {
  kind?: "voucher" | "topup";
  duration_minutes: number | null;
  time_mode: "wallclock" | "usage";
  data_quota_mb: number | null;
  windows?: PlanWindow[] | null;
  period_quota_mb?: number | null;
  quota_period?: QuotaPeriod | null;
  pause?: PlanPause | null;
  max_devices: number | null;
  device_policy?: "shared" | "first_devices";
  idle_release_minutes?: number | null;
}

export function dayName(day: Day): string {
  return t(`day.${day}`);
}

/** `Mon–Fri`, `Sat, Sun`, `Mon, Wed–Fri`, or `Every day`: runs of three or more days joined by a dash. */
export function dayRange(days: Day[]): string {
  const chosen = DAYS.filter((day) => days.includes(day));
  if (chosen.length === DAYS.length) return t("preview.everyDay");
  const runs: Day[][] = [];
  for (const day of chosen) {
    const run = runs[runs.length - 1];
    if (run && DAYS.indexOf(run[run.length - 1]) === DAYS.indexOf(day) - 1) run.push(day);
    else runs.push([day]);
  }
  return runs
    .map((run) => (run.length >= 3 ? `${dayName(run[0])}–${dayName(run[run.length - 1])}` : run.map(dayName).join(", ")))
    .join(", ");
}

/** `Mon–Fri 07:00–15:00`; an end of 00:00 is midnight, written 24:00 so it reads as the day's end. */
export function windowText(window: PlanWindow): string {
  const end = window.end === "00:00" ? "24:00" : window.end;
  return `${dayRange(window.days)} ${window.start}–${end}`;
}

/** `2 GB` when it is whole gigabytes (1 GB = 1024 MB, as the quota counts), else `500 MB` or `1,5 GB`. */
export function megabytes(mb: number): string {
  if (mb < 1024) return `${mb} MB`;
  const number = new Intl.NumberFormat(lang.get() === "en" ? "en-GB" : "id-ID", { maximumFractionDigits: 1 });
  return `${number.format(mb / 1024)} GB`;
}

export function planPreview(terms: PlanTerms): string {
  const time = terms.duration_minutes && terms.duration_minutes > 0 ? duration(terms.duration_minutes) : null;
  const data = terms.data_quota_mb && terms.data_quota_mb > 0 ? megabytes(terms.data_quota_mb) : null;
  if (terms.kind === "topup") {
    const adds = [time, data].filter((part): part is string => part !== null);
    return adds.length ? t("preview.topup", { adds: adds.join(", ") }) : "";
  }
  const parts: string[] = [];
  for (const window of terms.windows ?? []) {
    if (window.days.length && window.start && window.end) parts.push(windowText(window));
  }
  if (terms.period_quota_mb && terms.quota_period) {
    parts.push(t(`preview.per.${terms.quota_period}`, { amount: megabytes(terms.period_quota_mb) }));
  }
  if (data) parts.push(terms.period_quota_mb ? t("preview.totalData", { amount: data }) : data);
  if (time) parts.push(terms.time_mode === "usage" ? t("preview.usageTime", { time }) : time);
  const pause = terms.pause;
  if (pause && terms.time_mode === "wallclock" && pause.max_pauses > 0 && pause.max_pause_minutes > 0) {
    parts.push(t(`preview.pause.${pause.by}`, { n: pause.max_pauses, time: duration(pause.max_pause_minutes) }));
  }
  const devices = terms.max_devices ?? 1;
  if (terms.device_policy === "first_devices") {
    parts.push(devices === 1 ? t("preview.firstDevice") : t("preview.firstDevices", { n: devices }));
  } else if (devices > 1) {
    parts.push(t("preview.sharedDevices", { n: devices }));
  }
  if (terms.idle_release_minutes && terms.idle_release_minutes > 0) {
    parts.push(t("preview.idleRelease", { time: duration(terms.idle_release_minutes) }));
  }
  return parts.join(", ");
}
