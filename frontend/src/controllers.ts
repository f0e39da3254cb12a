// The configuration a venue pastes into its hotspot controller, one template per family.
// Templates hold <PLACEHOLDERS>; docs/integrations/*.md show the same templates verbatim and the
// "connect a controller" screen fills them with a site's values. Change both together (the
// browser test compares the RouterOS lines with docs/integrations/mikrotik.md).

export interface ControllerValues {
  SITE_ID: string;
  RADIUS_SERVER: string; // the address of the FreeRADIUS that runs Kuota's configuration
  RADIUS_SECRET: string; // shared secret between the NAS and FreeRADIUS
  NAS_IDENTIFIER: string; // what the NAS sends as NAS-Identifier (MikroTik: its system identity)
  NAS_IP: string; // the NAS's address as FreeRADIUS sees it
  HOTSPOT_PROFILE: string;
  INTERIM_SECONDS: string;
  GATEWAY_NAME: string;
  FASREMOTEFQDN: string;
  FASPORT: string;
  FASPATH: string;
  FASKEY: string;
  GUEST_PAGE_HOST: string;
}

export type Family = "mikrotik" | "unifi" | "omada" | "opennds" | "freeradius";

export const FAMILIES: Family[] = ["mikrotik", "unifi", "omada", "opennds", "freeradius"];

/** Every placeholder, as a template writes it. */
export function placeholder(name: keyof ControllerValues): string {
  return `<${name}>`;
}

export const TEMPLATES: Record<Family, string> = {
  mikrotik: [
    "/system identity set name=<NAS_IDENTIFIER>",
    '/radius add service=hotspot address=<RADIUS_SERVER> secret="<RADIUS_SECRET>" authentication-port=1812 accounting-port=1813 timeout=3s comment="kuota <SITE_ID>"',
    "/radius incoming set accept=yes port=3799",
    "/ip hotspot profile set [find name=<HOTSPOT_PROFILE>] use-radius=yes radius-accounting=yes radius-interim-update=<INTERIM_SECONDS>s login-by=http-pap",
    "/ip hotspot user profile set [find name=default] shared-users=unlimited",
  ].join("\n"),
  unifi: [
    "1. Settings > Profiles > RADIUS > Create New: name kuota",
    "2. Authentication servers: IP <RADIUS_SERVER>, port 1812, shared secret <RADIUS_SECRET>",
    "3. Enable RADIUS accounting; accounting servers: IP <RADIUS_SERVER>, port 1813, shared secret <RADIUS_SECRET>",
    "4. Interim update interval: <INTERIM_SECONDS> seconds",
    "5. Settings > Hotspot (Guest Hotspot) > Authentication: RADIUS, profile kuota, authentication type PAP",
    "6. Enable \"Disconnect messages\" (CoA/Disconnect, UDP 3799) so Kuota can end sessions early",
    "7. Register this controller in Kuota with NAS identifier <NAS_IDENTIFIER> or IP <NAS_IP>",
  ].join("\n"),
  omada: [
    "1. Settings > Authentication > Portal > Create New Portal: name kuota, SSID of the guest network",
    "2. Authentication type: RADIUS Server; RADIUS server IP <RADIUS_SERVER>, port 1812, password <RADIUS_SECRET>",
    "3. RADIUS authentication mode: PAP; NAS ID: <NAS_IDENTIFIER>",
    "4. RADIUS accounting: enable; accounting server IP <RADIUS_SERVER>, port 1813, password <RADIUS_SECRET>",
    "5. Interim update: enable, interval <INTERIM_SECONDS> seconds",
    "6. Disconnect requests: enable, port 3799",
    "7. Register this controller in Kuota with NAS identifier <NAS_IDENTIFIER> or IP <NAS_IP>",
  ].join("\n"),
  opennds: [
    "opkg update && opkg install php8-cli php8-mod-openssl ca-bundle",
    "uci set opennds.@opennds[0].gatewayname='<GATEWAY_NAME>'",
    "uci set opennds.@opennds[0].fasport='<FASPORT>'",
    "uci set opennds.@opennds[0].fasremotefqdn='<FASREMOTEFQDN>'",
    "uci set opennds.@opennds[0].faspath='<FASPATH>'",
    "uci set opennds.@opennds[0].fas_secure_enabled='3'",
    "uci set opennds.@opennds[0].faskey='<FASKEY>'",
    "uci add_list opennds.@opennds[0].walledgarden_fqdn_list='<FASREMOTEFQDN>'",
    "uci add_list opennds.@opennds[0].walledgarden_fqdn_list='<GUEST_PAGE_HOST>'",
    "uci commit opennds",
    "service opennds restart",
  ].join("\n"),
  freeradius: [
    "client <NAS_IDENTIFIER> {",
    "    ipaddr = <NAS_IP>",
    "    secret = <RADIUS_SECRET>",
    "    require_message_authenticator = no",
    "}",
  ].join("\n"),
};

/** A template with each placeholder replaced by its value (a value left empty stays a placeholder). */
export function fill(template: string, values: Partial<ControllerValues>): string {
  return template.replace(/<([A-Z_]+)>/g, (whole, name: string) => {
    const value = values[name as keyof ControllerValues];
    return value ? value : whole;
  });
}

export function configText(family: Family, values: Partial<ControllerValues>): string {
  return fill(TEMPLATES[family], values);
}

/** A shared secret RouterOS, UniFi and Omada all accept: letters and digits, 24 characters. */
export function newRadiusSecret(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
  const limit = 256 - (256 % alphabet.length); // drop bytes that would favour the first letters
  let secret = "";
  while (secret.length < 24) {
    for (const byte of crypto.getRandomValues(new Uint8Array(32))) {
      if (byte < limit && secret.length < 24) secret += alphabet[byte % alphabet.length];
    }
  }
  return secret;
}
