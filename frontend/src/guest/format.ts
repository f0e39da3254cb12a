// Numbers and times as a guest reads them, in the page's language.

import { lang } from "./strings";

function locale(): string {
  return lang.get() === "en" ? "en-GB" : "id-ID";
}

/** 5400 -> "1:30:00"; over a day -> "2 d 03:00:00" (hari/d). */
export function countdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const days = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  const clock = `${days ? String(hh).padStart(2, "0") : hh}:${mm}:${ss}`;
  return days ? `${days} ${lang.get() === "en" ? "d" : "hari"} ${clock}` : clock;
}

/** A duration in words, for a voucher not started yet: "1 jam 30 menit" / "1 h 30 min". */
export function duration(seconds: number): string {
  const en = lang.get() === "en";
  const days = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const parts: string[] = [];
  if (days) parts.push(`${days} ${en ? "d" : "hari"}`);
  if (hours) parts.push(`${hours} ${en ? "h" : "jam"}`);
  if (minutes || !parts.length) parts.push(`${minutes} ${en ? "min" : "menit"}`);
  return parts.join(" ");
}

/** Bytes as MB/GB with 1,048,576 bytes to the MB, as the quota and the routers count. */
export function bytes(value: number): string {
  const mb = value / 1048576;
  const number = new Intl.NumberFormat(locale(), { maximumFractionDigits: mb >= 100 ? 0 : 1 });
  return mb >= 1024 ? `${number.format(mb / 1024)} GB` : `${number.format(mb)} MB`;
}

export function dateTime(iso: string): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

export function time(iso: string): string {
  const at = new Date(iso);
  const sameDay = at.toDateString() === new Date().toDateString();
  return new Intl.DateTimeFormat(locale(), sameDay ? { timeStyle: "short" } : { dateStyle: "short", timeStyle: "short" }).format(at);
}

/** `Rp 10.000` in either language: rupiah are written the Indonesian way (as the console does). */
export function rupiah(amount: number): string {
  return `Rp ${new Intl.NumberFormat("id-ID", { maximumFractionDigits: 0 }).format(Math.round(amount))}`;
}

/** A payment countdown: "14:32" under an hour, the long form above. */
export function minutesClock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  return s >= 3600 ? countdown(s) : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * A moment soon, as short as it can be said: "15:00" today, "Sen 07.00" / "Mon 07:00" within the
 * week, else "1 Des 00.00" (usage hours opening, a data period resetting).
 */
export function soon(iso: string): string {
  const at = new Date(iso);
  const now = new Date();
  const clock: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (at.toDateString() === now.toDateString()) return new Intl.DateTimeFormat(locale(), clock).format(at);
  const withinWeek = at.getTime() - now.getTime() < 6 * 86_400_000;
  const day: Intl.DateTimeFormatOptions = withinWeek ? { weekday: "short" } : { day: "numeric", month: "short" };
  return new Intl.DateTimeFormat(locale(), { ...day, ...clock }).format(at);
}
