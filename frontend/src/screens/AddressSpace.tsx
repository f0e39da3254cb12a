// Platform admins: the ISP's registered address space (GET/PUT /v1/platform/address-space), one
// prefix a line: `CIDR AS-number note`. Thousands of lines stay one textarea; a line the console
// cannot read, or the prefix the API names in its 400, is shown next to it and selected. Route: #/address-space.

import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, errorText } from "../api";
import { t } from "../i18n";
import { Alert, Loading, Notice, Page, useId, useLoad } from "../ui";
import { PlatformTabs } from "./Settlements";

export interface Prefix {
  cidr: string;
  asn: number;
  note: string | null;
}

interface Parsed {
  prefixes: Prefix[];
  lines: number[]; // the textarea line (1-based) of each prefix
  problem: { line: number; message: string } | null;
}

export function formatPrefixes(prefixes: Prefix[]): string {
  return prefixes.map((p) => [p.cidr, `AS${p.asn}`, p.note].filter(Boolean).join(" ")).join("\n");
}

/** `203.0.113.0/24 AS64500 Jakarta POP` per line; blank lines and `#` comments are skipped. */
export function parsePrefixes(text: string): Parsed {
  const prefixes: Prefix[] = [];
  const lines: number[] = [];
  const rows = text.split("\n");
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index].trim();
    if (!row || row.startsWith("#")) continue;
    const [cidr, asnText, ...note] = row.split(/\s+/);
    const asn = Number((asnText ?? "").replace(/^AS/i, ""));
    if (!cidr.includes("/")) return { prefixes, lines, problem: { line: index + 1, message: t("addr.noLength", { cidr, line: index + 1 }) } };
    if (!asnText || !Number.isInteger(asn) || asn <= 0 || asn > 4_294_967_295) {
      return { prefixes, lines, problem: { line: index + 1, message: t("addr.badAsn", { cidr, line: index + 1 }) } };
    }
    prefixes.push({ cidr, asn, note: note.join(" ") || null });
    lines.push(index + 1);
  }
  return { prefixes, lines, problem: null };
}

/** Which prefix the API's 400 is about: by index in its field (`prefixes[3].cidr`), else by the CIDR it names. */
export function blamedPrefix(error: ApiError, prefixes: Prefix[]): number | null {
  const match = /prefixes\D*(\d+)/.exec(error.field ?? "") ?? /prefixes\D*(\d+)/.exec(error.detail ?? error.message);
  if (match && Number(match[1]) < prefixes.length) return Number(match[1]);
  // The longest CIDR the message contains (so 10.0.0.0/8 does not match inside 10.0.0.0/80).
  let found: number | null = null;
  prefixes.forEach((prefix, index) => {
    if ((error.detail ?? error.message).includes(prefix.cidr) && (found === null || prefix.cidr.length > prefixes[found].cidr.length)) found = index;
  });
  return found;
}

/**
 * The API's own words without the field it names first, its other prefixes by line
 * (`prefixes.3.cidr: 10.1.0.0/16 overlaps 10.0.0.0/8 (prefixes.0)` → `… overlaps 10.0.0.0/8 (line 1)`).
 */
function reasonOf(error: ApiError, lines: number[]): string {
  const detail = error.detail ?? error.message;
  const text = error.field && detail.startsWith(`${error.field}: `) ? detail.slice(error.field.length + 2) : detail;
  return text.replace(/prefixes\.(\d+)(\.\w+)?/g, (whole, index: string) =>
    lines[Number(index)] ? t("addr.lineRef", { line: lines[Number(index)] }) : whole,
  );
}

export function AddressSpace() {
  const loaded = useLoad(() => api.get<{ prefixes: Prefix[] }>("/v1/platform/address-space").then((r) => r.prefixes));
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<{ line: number; message: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const id = useId("addr");
  useEffect(() => {
    if (loaded.data) setText(formatPrefixes(loaded.data));
  }, [loaded.data]);

  /** Select a line of the textarea so the admin sees which one is wrong. */
  const point = (line: number) => {
    const node = area.current;
    if (!node) return;
    const rows = node.value.split("\n");
    const start = rows.slice(0, line - 1).reduce((sum, row) => sum + row.length + 1, 0);
    node.focus();
    node.setSelectionRange(start, start + (rows[line - 1]?.length ?? 0));
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setProblem(null);
    setError(null);
    setNotice(null);
    const parsed = parsePrefixes(text);
    if (parsed.problem) {
      setProblem(parsed.problem);
      point(parsed.problem.line);
      return;
    }
    setBusy(true);
    try {
      const saved = await api.put<{ prefixes: Prefix[] }>("/v1/platform/address-space", { prefixes: parsed.prefixes });
      const prefixes = saved?.prefixes ?? parsed.prefixes;
      loaded.setData(prefixes);
      setNotice(t("addr.saved", { n: prefixes.length }));
    } catch (err) {
      const index = err instanceof ApiError && err.status === 400 ? blamedPrefix(err, parsed.prefixes) : null;
      if (index !== null) {
        const line = parsed.lines[index];
        setProblem({ line, message: t("addr.lineProblem", { line, cidr: parsed.prefixes[index].cidr, message: reasonOf(err as ApiError, parsed.lines) }) });
        point(line);
      } else {
        setError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const count = parsePrefixes(text).prefixes.length;
  return (
    <Page title={t("addr.title")}>
      <PlatformTabs current="address-space" />
      <p class="explain">{t("addr.intro")}</p>
      <Loading show={loaded.loading} />
      <Alert message={loaded.error} />
      {loaded.data && (
        <form class="card form" onSubmit={save}>
          <div class="field">
            <label for={id}>{t("addr.label")}</label>
            <textarea
              id={id}
              ref={area}
              name="prefixes"
              class="prefixes"
              rows={Math.min(20, Math.max(6, text.split("\n").length + 1))}
              spellcheck={false}
              autocomplete="off"
              aria-describedby={`${id}-hint${problem ? ` ${id}-problem` : ""}`}
              aria-invalid={problem ? true : undefined}
              placeholder="203.0.113.0/24 AS64500 Jakarta POP"
              value={text}
              onInput={(event) => setText((event.currentTarget as HTMLTextAreaElement).value)}
            />
            <p class="hint" id={`${id}-hint`}>
              {t("addr.hint")}
            </p>
            {problem && (
              <p class="error" role="alert" id={`${id}-problem`} data-line={problem.line}>
                {problem.message}
              </p>
            )}
          </div>
          <p class="hint" role="status">
            {t("addr.count", { n: count })}
          </p>
          <button type="submit" disabled={busy}>
            {t("common.save")}
          </button>
          <Alert message={error} />
          <Notice message={notice} />
        </form>
      )}
    </Page>
  );
}
