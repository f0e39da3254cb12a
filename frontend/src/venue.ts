// Venue name, SSID and logo printed on voucher cards, per site.
// Stored in this browser's localStorage for now: the API has no field for them yet.

export interface Venue {
  venueName: string;
  ssid: string;
  logo: string | null; // data: URL
}

const key = (siteId: string) => `kuota.venue.${siteId}`;

export function readVenue(siteId: string | null | undefined, fallbackName = ""): Venue {
  const empty: Venue = { venueName: fallbackName, ssid: "", logo: null };
  if (!siteId) return empty;
  try {
    const raw = localStorage.getItem(key(siteId));
    return raw ? { ...empty, ...(JSON.parse(raw) as Partial<Venue>) } : empty;
  } catch {
    return empty;
  }
}

export function writeVenue(siteId: string, venue: Venue): void {
  localStorage.setItem(key(siteId), JSON.stringify(venue));
}
