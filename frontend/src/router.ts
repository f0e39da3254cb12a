// Hash routes (`#/plans`, `#/batches/<id>/print`): a static host serves one index.html.

import { signal, useSignal } from "./signal";

export interface Route {
  path: string;
  parts: string[];
}

function parse(): Route {
  const path = window.location.hash.replace(/^#/, "") || "/";
  return { path, parts: path.split("/").filter(Boolean).map(decodeURIComponent) };
}

export const route = signal<Route>(parse());
window.addEventListener("hashchange", () => route.set(parse()));

export function navigate(hash: string): void {
  if (window.location.hash === hash) route.set(parse());
  else window.location.hash = hash;
}

export function useRoute(): Route {
  return useSignal(route);
}
