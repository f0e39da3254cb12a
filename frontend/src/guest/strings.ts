// The guest page's own strings (Bahasa Indonesia by default, English), kept apart from the
// console's table so the guest bundle stays small. The choice is remembered in localStorage.

import { signal } from "../signal";

export type Lang = "id" | "en";
const LANG_KEY = "kuota.guest.lang";

function initialLang(): Lang {
  try {
    return localStorage.getItem(LANG_KEY) === "en" ? "en" : "id";
  } catch {
    return "id";
  }
}

export const lang = signal<Lang>(initialLang());

export function setLang(next: Lang): void {
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    // private browsing: the choice lasts for this page only
  }
  document.documentElement.lang = next;
  lang.set(next);
}

type Entry = [id: string, en: string];

const TABLE: Record<string, Entry> = {
  "title": ["Internet WiFi", "WiFi internet"],
  "brand.by": ["Layanan internet oleh", "Internet service by"],
  "lang.switch": ["Bahasa", "Language"],
  "code.label": ["Kode voucher", "Voucher code"],
  "code.hint": ["Ada di struk atau kartu voucher, mis. K7QF-M2XD-9P", "Printed on your receipt or voucher card, e.g. K7QF-M2XD-9P"],
  "code.check": ["Cek voucher", "Check voucher"],
  "code.connect": ["Masuk", "Connect"],
  "code.other": ["Pakai kode lain", "Use another code"],
  "busy": ["Sebentar…", "One moment…"],
  "continue": ["Lanjut ke login hotspot", "Continue to the hotspot login"],
  "continue.hint": ["Kode Anda dikirim ke router WiFi tempat ini untuk membuka internet.", "Your code is sent to this venue's WiFi router to open the internet."],
  "status.heading": ["Status voucher", "Voucher status"],
  "status.unused": ["Belum dipakai", "Not used yet"],
  "status.active": ["Aktif", "Active"],
  "status.paused": ["Dijeda", "Paused"],
  "status.expired": ["Sudah habis waktunya", "Expired"],
  "status.exhausted": ["Kuota data habis", "Data used up"],
  "status.revoked": ["Dibatalkan oleh tempat ini", "Cancelled by the venue"],
  "time.left": ["Sisa waktu", "Time left"],
  "time.total": ["Lama pemakaian", "Access time"],
  "data.left": ["Sisa kuota data", "Data left"],
  "data.unlimited": ["Tanpa batas", "Unlimited"],
  "expires.active": ["Berakhir pada", "Ends at"],
  "expires.unused": ["Pakai sebelum", "Use before"],
  "expires.ended": ["Berakhir", "Ended"],
  "unused.note": ["Waktu mulai berjalan saat Anda pertama kali masuk.", "The clock starts when you first connect."],
  "devices.heading": ["Perangkat", "Devices"],
  "devices.used": ["{used} dari {max} perangkat dipakai", "{used} of {max} devices in use"],
  "devices.none": ["Belum ada perangkat yang memakai kode ini.", "No device uses this code yet."],
  "devices.item": ["Perangkat {n}", "Device {n}"],
  "devices.seen": ["terakhir aktif {at}", "last active {at}"],
  "devices.notseen": ["baru masuk", "just connected"],
  "devices.release": ["Lepaskan perangkat ini", "Release this device"],
  "devices.releaseFor": ["Lepaskan perangkat {n}", "Release device {n}"],
  "devices.why": ["Ponsel Anda tidak bisa masuk karena alamat MAC-nya berganti? Lepaskan perangkat lama, lalu masuk lagi.", "Your phone cannot connect because its MAC address changed? Release the old device, then connect again."],
  "devices.released": ["Perangkat dilepas. Perangkat lain sekarang bisa masuk dengan kode ini.", "Device released. Another device can now connect with this code."],
  "refresh": ["Perbarui", "Refresh"],
  "fas.connected": ["Anda sudah terhubung ke internet.", "You are connected to the internet."],
  "fas.unavailable": ["Login hotspot tempat ini sedang tidak tersedia. Anda tetap bisa mengecek voucher.", "This venue's hotspot sign-in is not available right now. You can still check your voucher."],
  "mikrotik.error": ["Router WiFi menjawab: {message}", "The WiFi router says: {message}"],
  "err.invalid_code": ["Kode ini tidak dikenal. Periksa lagi huruf dan angkanya.", "This code is not known. Check its letters and digits."],
  "err.too_many_attempts": ["Terlalu banyak kode salah dari jaringan ini. Coba lagi dalam {minutes} menit.", "Too many wrong codes from this network. Try again in {minutes} minutes."],
  "err.voucher_expired": ["Voucher ini sudah habis waktunya.", "This voucher has expired."],
  "err.voucher_revoked": ["Voucher ini dibatalkan oleh tempat ini.", "This voucher was cancelled by the venue."],
  "err.voucher_exhausted": ["Kuota data voucher ini sudah habis.", "This voucher's data is used up."],
  "err.device_limit_reached": ["Voucher ini sudah dipakai di jumlah perangkat maksimum. Lepaskan perangkat lama di bawah, lalu coba lagi.", "This voucher is in use on its maximum of devices. Release an old device below, then try again."],
  "err.wrong_site": ["Voucher ini tidak berlaku di tempat ini.", "This voucher is not valid at this venue."],
  "err.service_suspended": ["Layanan internet di tempat ini sedang dihentikan sementara. Tanyakan kepada petugas.", "Internet service at this venue is suspended for now. Please ask the staff."],
  "err.not_found": ["Perangkat itu sudah tidak memakai kode ini.", "That device no longer uses this code."],
  "err.no_venue": ["Halaman ini dibuka tanpa tempat (venue). Buka dari halaman login WiFi tempat Anda berada.", "This page was opened without a venue. Open it from the WiFi login page where you are."],
  "err.code_format": ["Masukkan kode voucher (4 sampai 40 karakter).", "Enter your voucher code (4 to 40 characters)."],
  "err.network": ["Tidak dapat menghubungi Kuota. Periksa sambungan WiFi, lalu coba lagi.", "Cannot reach Kuota. Check the WiFi connection and try again."],
  "err.unknown": ["Terjadi kesalahan. Coba lagi sebentar lagi.", "Something went wrong. Try again in a moment."],
};

export function t(key: string, vars?: Record<string, string | number>): string {
  const entry = TABLE[key];
  let text = entry ? entry[lang.get() === "en" ? 1 : 0] : key;
  for (const [name, value] of Object.entries(vars ?? {})) text = text.split(`{${name}}`).join(String(value));
  return text;
}

export function hasText(key: string): boolean {
  return key in TABLE;
}
