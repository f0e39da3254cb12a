// Venue name, SSID and logo printed on voucher cards: per site, stored on the server
// (PATCH /v1/orgs/{org}/sites/{site} with venue_name, ssid, logo; GET returns them).

import type { Site } from "./ui";

export interface Venue {
  venueName: string;
  ssid: string;
  logo: string | null; // data:image/png or data:image/jpeg URL
}

/** The print settings of a site; the venue name falls back to the site's name. */
export function venueOf(site: Site | null | undefined): Venue {
  return {
    venueName: site?.venue_name || site?.name || "",
    ssid: site?.ssid ?? "",
    logo: site?.logo || null,
  };
}

export const LOGO_MAX_CHARS = 48_000; // the API's limit on the data: URL
export const LOGO_MAX_PX = 256;

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error("image"));
    image.src = src;
  });
}

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error("read"));
    reader.readAsDataURL(file);
  });
}

/**
 * Downscale an uploaded image in a canvas to at most LOGO_MAX_PX on its longer side and
 * encode it as PNG (or JPEG when the PNG is over the API's limit). Read as a data: URL,
 * never a blob: URL, so the console's img-src CSP allows it. The result may still be
 * over the limit for a very busy image: the API then refuses it and the form says why.
 */
export async function downscaleLogo(file: File): Promise<string> {
  const image = await loadImage(await readAsDataUrl(file));
  const width = image.naturalWidth || LOGO_MAX_PX;
  const height = image.naturalHeight || LOGO_MAX_PX;
  const scale = Math.min(1, LOGO_MAX_PX / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext("2d");
  if (!context) throw new Error("canvas");
  context.imageSmoothingQuality = "high";
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  const png = canvas.toDataURL("image/png");
  if (png.length <= LOGO_MAX_CHARS) return png;
  // JPEG has no transparency: paint the card's white under the image first.
  context.globalCompositeOperation = "destination-over";
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  let smallest = png;
  for (const quality of [0.9, 0.8, 0.65, 0.5]) {
    const jpeg = canvas.toDataURL("image/jpeg", quality);
    if (jpeg.length < smallest.length) smallest = jpeg;
    if (jpeg.length <= LOGO_MAX_CHARS) return jpeg;
  }
  return smallest;
}
