// The ISP's mark (logo, name, tagline, colour), shared by the console, printed vouchers and the
// guest page. No requests here: each page loads the brand its own way and passes it in.

import "./brandmark.css";

export interface Brand {
  name: string | null;
  tagline: string | null;
  logo: string | null; // data:image/png or data:image/svg+xml (base64) URL
  colour: string | null; // #rrggbb
}

export const NO_BRAND: Brand = { name: null, tagline: null, logo: null, colour: null };

function luminance(colour: string): number {
  const channel = (hex: string) => {
    const value = parseInt(hex, 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(colour.slice(1, 3)) + 0.7152 * channel(colour.slice(3, 5)) + 0.0722 * channel(colour.slice(5, 7));
}

/** WCAG contrast ratio of two #rrggbb colours. */
export function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

const VALID = /^#[0-9a-fA-F]{6}$/;

/**
 * The brand colour as a text colour on white when it reads well there (contrast >= 4.5, WCAG AA);
 * otherwise null and the text keeps the page's own colour (the stripe still carries the brand).
 */
export function readableInk(colour: string | null): string | null {
  return colour && VALID.test(colour) && contrast(colour, "#ffffff") >= 4.5 ? colour : null;
}

/** The mark, or nothing while the platform has not set a brand (name null). */
export function BrandMark({ brand, label, compact = false }: { brand: Brand; label?: string; compact?: boolean }) {
  if (!brand.name) return null;
  const stripe = brand.colour && VALID.test(brand.colour) ? brand.colour : null;
  const ink = readableInk(brand.colour);
  const style: Record<string, string> = {};
  if (stripe) style["--isp-colour"] = stripe;
  if (ink) style["--isp-ink"] = ink;
  return (
    <div class={`isp-mark${compact ? " isp-compact" : ""}${stripe ? " isp-striped" : ""}`} style={style} data-testid="isp-mark">
      {brand.logo && <img class="isp-logo" src={brand.logo} alt="" />}
      <span class="isp-text">
        {label && <span class="isp-label">{label} </span>}
        <strong class="isp-name">{brand.name}</strong>
        {brand.tagline && !compact && <span class="isp-tagline">{brand.tagline}</span>}
      </span>
    </div>
  );
}
