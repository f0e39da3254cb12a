// The shell: sign-in gate, navigation for the signed-in role, and the screen for the route.

import { useEffect, useRef, useState } from "preact/hooks";
import { errorText, logout, onSignedOut } from "./api";
import { brand, loadBrand } from "./brand";
import { BrandMark } from "./brandmark";
import { t } from "./i18n";
import { navigate, useRoute } from "./router";
import { actingOrg, clearSession, homeFor, loadMe, me, mayUse, type Screen } from "./session";
import { useSignal } from "./signal";
import { Alert, LanguageSwitch, Loading, useLang } from "./ui";
import { Login } from "./screens/Login";
import { Dashboard } from "./screens/Dashboard";
import { Plans } from "./screens/Plans";
import { Sites } from "./screens/Sites";
import { Batches } from "./screens/Batches";
import { PrintView } from "./screens/Print";
import { Sell } from "./screens/Sell";
import { Vouchers } from "./screens/Vouchers";
import { Reports } from "./screens/Reports";
import { Audit } from "./screens/Audit";
import { Alerts } from "./screens/Alerts";
import { Users } from "./screens/Users";
import { Platform } from "./screens/Platform";
import { Connect } from "./screens/Connect";
import { NasScreen } from "./screens/Nas";
import { Sales } from "./screens/Sales";
import { ShiftScreen } from "./screens/Shift";
import { Statement } from "./screens/Statement";
import { SettlementPage, SettlementsScreen, SharesScreen } from "./screens/Settlements";
import { ResellerPage, Resellers } from "./screens/Resellers";
import { PolicyScreen } from "./screens/Policy";
import { AddressSpace } from "./screens/AddressSpace";
import { ComplianceScreen } from "./screens/Compliance";
import { ComplianceBanner, seesBanner } from "./compliance";
import { BrandScreen } from "./screens/Brand";
import { Payments } from "./screens/Payments";
import { Orders } from "./screens/Orders";

const NAV: Array<[Screen, string]> = [
  ["dashboard", "nav.dashboard"],
  ["sell", "nav.sell"],
  ["shift", "nav.shift"],
  ["sales", "nav.sales"],
  ["orders", "nav.orders"],
  ["vouchers", "nav.vouchers"],
  ["plans", "nav.plans"],
  ["payments", "nav.payments"],
  ["sites", "nav.sites"],
  ["nas", "nav.nas"],
  ["connect", "nav.connect"],
  ["batches", "nav.batches"],
  ["reports", "nav.reports"],
  ["alerts", "nav.alerts"],
  ["statement", "nav.statement"],
  ["compliance", "nav.compliance"],
  ["audit", "nav.audit"],
  ["users", "nav.users"],
  ["platform", "nav.platform"],
  ["shares", "nav.shares"],
  ["settlements", "nav.settlements"],
  ["brand", "nav.brand"],
  ["resellers", "nav.resellers"],
  ["policy", "nav.policy"],
  ["address-space", "nav.address-space"],
];

const ORG_FREE: Screen[] = ["platform", "shares", "settlements", "brand", "resellers", "policy", "address-space"];

export function App() {
  useLang();
  const route = useRoute();
  const who = useSignal(me);
  const org = useSignal(actingOrg);
  const [booting, setBooting] = useState(true);
  const [bootError, setBootError] = useState<string | null>(null);
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    onSignedOut(() => {
      clearSession();
      setExpired(true);
      navigate("#/login");
    });
    loadMe()
      .then((signedIn) => {
        if (!signedIn && route.parts[0] !== "login") navigate("#/login");
      })
      .catch((error) => setBootError(errorText(error)))
      .finally(() => setBooting(false));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  if (booting) return <Loading show />;

  const screen = (route.parts[0] ?? "") as string;

  if (!who || screen === "login") {
    if (who && screen === "login") {
      navigate(homeFor(who.role));
      return null;
    }
    if (screen !== "login") {
      navigate("#/login");
      return null;
    }
    return (
      <Login
        notice={expired ? t("login.expired") : bootError}
        onSignedIn={(signedIn) => {
          setExpired(false);
          navigate(homeFor(signedIn.role));
        }}
      />
    );
  }

  if (!screen) {
    navigate(homeFor(who.role));
    return null;
  }

  return (
    <Shell>
      <Content screen={screen} parts={route.parts} role={who.role} hasOrg={Boolean(who.org_id || org)} />
    </Shell>
  );
}

function Content({ screen, parts, role, hasOrg }: { screen: string; parts: string[]; role: string; hasOrg: boolean }) {
  const known = NAV.some(([name]) => name === screen) || screen === "batches";
  if (!known) {
    return (
      <section class="page">
        <h1 id="page-title">{t("notfound.title")}</h1>
      </section>
    );
  }
  const target: Screen = screen === "batches" && parts[2] === "print" ? "print" : (screen as Screen);
  if (!mayUse(target, role as never)) {
    return (
      <section class="page">
        <h1 id="page-title">{t(`nav.${screen}`)}</h1>
        <Alert message={t("notallowed")} />
      </section>
    );
  }
  if (!hasOrg && !ORG_FREE.includes(target)) {
    return (
      <section class="page">
        <h1 id="page-title">{t(`nav.${screen}`)}</h1>
        <p class="error" role="alert">
          {t("err.noOrg")} <a href="#/platform">{t("nav.platform")}</a>
        </p>
      </section>
    );
  }
  switch (target) {
    case "dashboard":
      return <Dashboard />;
    case "plans":
      return <Plans />;
    case "sites":
      return <Sites />;
    case "batches":
      return <Batches />;
    case "print":
      return <PrintView batchId={parts[1]} />;
    case "sell":
      return <Sell />;
    case "vouchers":
      return <Vouchers initialCode={parts[1]} />;
    case "reports":
      return <Reports />;
    case "audit":
      return <Audit filter={parts[1]} />;
    case "alerts":
      return <Alerts />;
    case "users":
      return <Users />;
    case "platform":
      return <Platform />;
    case "nas":
      return <NasScreen />;
    case "connect":
      return <Connect initialSite={parts[1]} />;
    case "sales":
      return <Sales saleId={parts[1]} />;
    case "shift":
      return <ShiftScreen />;
    case "statement":
      return <Statement key={`${parts[1]}-${parts[2]}`} siteId={parts[1]} month={parts[2]} />;
    case "shares":
      return <SharesScreen />;
    case "settlements":
      return parts[1] ? <SettlementPage settlementId={parts[1]} /> : <SettlementsScreen />;
    case "compliance":
      return <ComplianceScreen />;
    case "resellers":
      return parts[1] ? <ResellerPage key={parts[1]} orgId={parts[1]} /> : <Resellers />;
    case "policy":
      return <PolicyScreen />;
    case "address-space":
      return <AddressSpace />;
    case "brand":
      return <BrandScreen />;
    case "payments":
      return <Payments />;
    case "orders":
      return <Orders />;
  }
}

function Shell({ children }: { children: preact.ComponentChildren }) {
  const who = useSignal(me)!;
  const org = useSignal(actingOrg);
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const current = route.parts[0];
  const isp = useSignal(brand);

  useEffect(() => {
    void loadBrand();
  }, []);

  // Owners and managers (and a platform admin acting in an organization) see its stage on every screen.
  // Not on the platform's own screens, which are about every organization.
  const bannerOrg =
    seesBanner(who.role, Boolean(who.org_id || org)) && !ORG_FREE.includes(current as Screen)
      ? (who.org_id ?? org?.org_id ?? null)
      : null;

  useEffect(() => {
    setMenuOpen(false);
    // Move focus to the new screen's heading so screen readers announce it.
    const heading = document.getElementById("page-title");
    heading?.focus({ preventScroll: true });
  }, [route.path]);

  const signOut = async () => {
    await logout();
    clearSession();
    navigate("#/login");
  };

  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(event) => { event.preventDefault(); main.current?.focus(); }}>
        {t("nav.skip")}
      </a>
      <header class="topbar no-print">
        <a class="brand" href={homeFor(who.role)}>
          Kuota
        </a>
        {isp.name && (
          <span class="topbar-isp">
            <BrandMark brand={isp} compact />
          </span>
        )}
        <button
          type="button"
          class="menu-toggle secondary"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          {t("nav.menu")}
        </button>
        <div class="who">
          <span>{t("nav.signedInAs", { email: who.email, role: t(`role.${who.role}`) })}</span>
          {org && <span class="org">{t("nav.actingIn", { org: org.name })}</span>}
        </div>
        <LanguageSwitch />
        <button type="button" class="secondary" onClick={signOut}>
          {t("nav.signout")}
        </button>
      </header>
      <nav id="main-nav" class={`nav no-print${menuOpen ? " open" : ""}`} aria-label={t("nav.label")}>
        <ul>
          {NAV.filter(([screen]) => mayUse(screen, who.role)).map(([screen, label]) => (
            <li key={screen}>
              <a href={`#/${screen}`} aria-current={current === screen ? "page" : undefined}>
                {t(label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1} ref={main}>
        {bannerOrg && <ComplianceBanner path={route.path} org={bannerOrg} />}
        {children}
      </main>
    </div>
  );
}
