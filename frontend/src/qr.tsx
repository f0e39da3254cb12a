// QR codes as data: URLs (allowed by the CSP's img-src), one per voucher code.

import QRCode from "qrcode";
import { useEffect, useState } from "preact/hooks";
import { t } from "./i18n";

export function QrImage({ code, size = 120 }: { code: string; size?: number }) {
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(code, { margin: 1, width: size * 2, errorCorrectionLevel: "M" })
      .then((url) => live && setSrc(url))
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [code, size]);
  if (failed) return <span role="alert" class="error">QR ✗</span>;
  if (!src) return <span class="qr-placeholder" aria-hidden="true" />;
  return <img class="qr" src={src} width={size} height={size} alt={t("print.qrAlt", { code })} />;
}
