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
  "window.heading": ["Jam pakai", "Usage hours"],
  "window.openUntil": ["Bisa dipakai sampai {at}", "Open until {at}"],
  "window.nextOpens": ["Di luar jam pakai. Buka lagi {at}", "Outside usage hours. Next opens {at}"],
  "period.day": ["Sisa {left} hari ini, diatur ulang {at}", "{left} left today, resets {at}"],
  "period.week": ["Sisa {left} minggu ini, diatur ulang {at}", "{left} left this week, resets {at}"],
  "period.month": ["Sisa {left} bulan ini, diatur ulang {at}", "{left} left this month, resets {at}"],
  "period.any": ["Sisa {left} periode ini, diatur ulang {at}", "{left} left this period, resets {at}"],
  "pause.heading": ["Jeda", "Pause"],
  "pause.left": ["Sisa jeda: {n}", "Pauses left: {n}"],
  "pause.button": ["Jeda voucher", "Pause voucher"],
  "pause.resume": ["Lanjutkan voucher", "Resume voucher"],
  "pause.hint": ["Saat dijeda, waktu berhenti berjalan dan perangkat Anda terputus.", "While paused, the clock stops and your devices are disconnected."],
  "pause.done": ["Voucher dijeda. Waktu Anda berhenti berjalan.", "Voucher paused. Your time has stopped running."],
  "pause.resumed": ["Voucher dilanjutkan. Silakan masuk lagi.", "Voucher resumed. Please connect again."],
  "err.pause_not_allowed": ["Voucher ini tidak bisa dijeda atau dilanjutkan sekarang.", "This voucher cannot be paused or resumed right now."],
  "err.outside_window": ["Voucher ini tidak bisa dipakai pada jam ini.", "This voucher cannot be used at this hour."],
  "err.period_quota_used": ["Data voucher ini untuk periode ini sudah habis.", "This voucher's data for this period is used up."],
  "err.voucher_paused": ["Voucher ini sedang dijeda. Lanjutkan dulu untuk masuk.", "This voucher is paused. Resume it to connect."],
  "fas.connected": ["Anda sudah terhubung ke internet.", "You are connected to the internet."],
  "fas.unavailable": ["Login hotspot tempat ini sedang tidak tersedia. Anda tetap bisa mengecek voucher.", "This venue's hotspot sign-in is not available right now. You can still check your voucher."],
  "mikrotik.error": ["Router WiFi menjawab: {message}", "The WiFi router says: {message}"],
  "buy.heading": ["Belum punya voucher? Beli di sini", "No voucher yet? Buy one here"],
  "buy.intro": ["Bayar dengan QRIS dari aplikasi bank atau e-wallet mana pun. Kode voucher muncul di halaman ini setelah dibayar.", "Pay with QRIS from any bank or e-wallet app. Your voucher code appears on this page once paid."],
  "buy.time": ["Waktu", "Time"],
  "buy.data": ["Data", "Data"],
  "buy.button": ["Beli {price}", "Buy for {price}"],
  "buy.buttonFor": ["Beli {plan} seharga {price}", "Buy {plan} for {price}"],
  "buy.loadFailed": ["Daftar voucher online tidak dapat dimuat.", "The vouchers for sale could not be loaded."],
  "retry": ["Coba lagi", "Try again"],
  "pay.heading": ["Bayar dengan QRIS", "Pay with QRIS"],
  "pay.amount": ["Total bayar", "Amount to pay"],
  "pay.scan": ["Pindai QR ini dengan aplikasi bank atau e-wallet (GoPay, OVO, DANA, ShopeePay, m-banking).", "Scan this QR with a bank or e-wallet app (GoPay, OVO, DANA, ShopeePay, mobile banking)."],
  "pay.qrAlt": ["Kode QR QRIS untuk membayar {amount}", "QRIS code to pay {amount}"],
  "pay.countdown": ["Bayar dalam", "Pay within"],
  "pay.deeplink": ["Bayar di aplikasi", "Pay in the app"],
  "pay.save": ["Simpan gambar QR", "Save the QR image"],
  "pay.saveHint": ["Membayar dari ponsel ini? Simpan gambar QR, buka aplikasi pembayaran, lalu pilih QR dari galeri.", "Paying from this phone? Save the QR image, open your payment app, then pick the QR from your gallery."],
  "pay.waiting": ["Menunggu pembayaran… Halaman ini diperbarui sendiri.", "Waiting for your payment… This page updates by itself."],
  "pay.qrExpired": ["Waktu bayar untuk QR ini sudah habis. Sudah terlanjur membayar? Tunggu di sini: kode Anda tetap akan muncul.", "The time to pay this QR is over. Paid already? Wait here: your code will still appear."],
  "pay.paid": ["Pembayaran diterima. Kode voucher Anda sedang dibuat…", "Payment received. Your voucher code is being made…"],
  "pay.offline": ["Koneksi ke Kuota terputus, mencoba lagi…", "Lost the connection to Kuota, trying again…"],
  "pay.loading": ["Memuat pesanan Anda…", "Loading your order…"],
  "done.heading": ["Voucher Anda sudah siap", "Your voucher is ready"],
  "done.code": ["Kode voucher", "Voucher code"],
  "done.keep": ["Simpan kode ini: Anda memerlukannya lagi jika sambungan terputus atau untuk perangkat lain. Tautan halaman ini juga selalu menampilkannya.", "Keep this code: you need it again if you get disconnected or for another device. This page's link always shows it too."],
  "done.connect": ["Sambungkan sekarang", "Connect now"],
  "done.check": ["Lihat sisa waktu voucher ini", "See this voucher's time left"],
  "receipt.heading": ["Struk pembelian", "Receipt"],
  "receipt.venue": ["Tempat", "Venue"],
  "receipt.plan": ["Paket", "Plan"],
  "receipt.amount": ["Jumlah", "Amount"],
  "receipt.method": ["Cara bayar", "Paid with"],
  "receipt.time": ["Waktu", "Time"],
  "receipt.order": ["No. pesanan", "Order ID"],
  "end.expired": ["Waktu bayar habis dan tidak ada pembayaran yang masuk untuk pesanan ini.", "The time to pay ran out and no payment came in for this order."],
  "end.cancelled": ["Pesanan ini dibatalkan.", "This order was cancelled."],
  "end.failed": ["Pembayaran pesanan ini gagal.", "The payment for this order failed."],
  "end.refunded": ["Pembayaran ini sudah dikembalikan, dan vouchernya tidak berlaku lagi.", "This payment was refunded and its voucher no longer works."],
  "end.again": ["Mulai lagi", "Start again"],
  "buy.another": ["Beli voucher lain", "Buy another voucher"],
  "err.online_sales_unavailable": ["Pembelian online belum tersedia di tempat ini. Silakan beli voucher di kasir.", "Online purchase is not available at this venue yet. Please buy a voucher at the counter."],
  "err.rate_limited": ["Terlalu banyak pesanan dari jaringan ini. Coba lagi dalam {minutes} menit.", "Too many orders from this network. Try again in {minutes} minutes."],
  "err.provider_unavailable": ["Layanan pembayaran sedang tidak menjawab. Coba lagi: Anda tidak akan ditagih dua kali.", "The payment service is not answering. Try again: you will not be charged twice."],
  "err.org_restricted": ["Penjualan online di tempat ini sedang dihentikan. Tanyakan kepada petugas.", "Online sales at this venue are stopped for now. Please ask the staff."],
  "pay.cancel": ["Batalkan dan pilih paket lain", "Cancel and choose another plan"],
  "err.cancel_failed": ["Pesanan belum bisa dibatalkan. Coba lagi sebentar lagi; QR ini tetap bisa dibayar sampai waktunya habis.", "The order could not be cancelled yet. Try again in a moment; this QR can still be paid until its time runs out."],
  "err.order_not_found": ["Pesanan ini tidak ditemukan. Periksa tautannya, atau beli voucher baru.", "This order was not found. Check the link, or buy a new voucher."],
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
