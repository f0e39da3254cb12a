// Rupiah, durations and times in a site's timezone with the zone named.

import { lang, t } from "./i18n";

const rupiahFormat = new Intl.NumberFormat("id-ID", { maximumFractionDigits: 0, minimumFractionDigits: 0 });

/** `Rp 10.000`, whatever the language: rupiah are always written the Indonesian way. */
export function rupiah(amount: number): string {
  const sign = amount < 0 ? "-" : "";
  return `${sign}Rp ${rupiahFormat.format(Math.abs(Math.round(amount)))}`;
}

const ZONES: Record<string, string> = {
  "Asia/Jakarta": "WIB",
  "Asia/Pontianak": "WIB",
  "Asia/Makassar": "WITA",
  "Asia/Jayapura": "WIT",
};

export const DEFAULT_TZ = "Asia/Jakarta";

export function zoneName(timezone: string): string {
  return ZONES[timezone] ?? timezone;
}

/** `22 Nov 2026 17.00 WIB`: the moment in the given zone, with the zone named. */
export function formatTime(iso: string | null | undefined, timezone: string = DEFAULT_TZ): string {
  if (!iso) return t("common.none");
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  let text: string;
  try {
    text = new Intl.DateTimeFormat(lang.get() === "en" ? "en-GB" : "id-ID", {
      timeZone: timezone,
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(date);
  } catch {
    return `${iso}`;
  }
  return `${text} ${zoneName(timezone)}`;
}

/** Today's date (YYYY-MM-DD) in a timezone. */
export function localDate(timezone: string = DEFAULT_TZ, daysAgo = 0): string {
  const date = new Date(Date.now() - daysAgo * 86_400_000);
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(date);
  return parts; // en-CA gives YYYY-MM-DD
}

export function duration(minutes: number): string {
  const en = lang.get() === "en";
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const parts: string[] = [];
  if (days) parts.push(en ? `${days} ${days === 1 ? "day" : "days"}` : `${days} hari`);
  if (hours) parts.push(en ? `${hours} ${hours === 1 ? "hour" : "hours"}` : `${hours} jam`);
  if (mins || parts.length === 0) parts.push(en ? `${mins} min` : `${mins} menit`);
  return parts.join(" ");
}

/** `K7QF-M2XD-9P`: groups of four for reading aloud and typing. */
export function groupCode(code: string): string {
  const clean = code.replace(/[\s-]/g, "");
  return clean.match(/.{1,4}/g)?.join("-") ?? clean;
}

export function bytes(value: number): string {
  if (value < 1024 * 1024) return `${Math.round(value / 1024)} KB`;
  if (value < 1024 ** 3) return `${(value / 1024 ** 2).toFixed(1)} MB`;
  return `${(value / 1024 ** 3).toFixed(2)} GB`;
}
