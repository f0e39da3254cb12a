// The ISP's brand for the console: read once per page load (GET /v1/brand, no sign-in needed,
// so the sign-in screen shows it too), kept in a signal the header and voucher cards read.

import { request } from "./api";
import { NO_BRAND, type Brand } from "./brandmark";
import { signal } from "./signal";

export const brand = signal<Brand>(NO_BRAND);
let loading: Promise<Brand> | null = null;

/** The brand (cached for the page's life); a failure leaves the console unbranded, never broken. */
export function loadBrand(): Promise<Brand> {
  loading ??= request<Brand>("/v1/brand", { auth: false })
    .then((value) => {
      brand.set({ ...NO_BRAND, ...value });
      return brand.get();
    })
    .catch(() => {
      loading = null; // try again next time a screen asks
      return brand.get();
    });
  return loading;
}

/** After a platform admin saved a new brand: show it everywhere at once. */
export function setBrand(value: Brand): void {
  brand.set(value);
  loading = Promise.resolve(value);
}
