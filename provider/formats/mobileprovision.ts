/**
 * `.mobileprovision` files: a DER CMS/PKCS#7 SignedData (signed by Apple) whose content is an XML property list
 * (TN3125 "Inside Code Signing: Provisioning Profiles"). Includes a small XML plist reader/writer for the types
 * Apple uses in profiles: dict, array, string, integer, real, date, data, true/false.
 */
import forge from "node-forge";
import { InvalidCredentialInput } from "../errors";

/** A plist value. `Date` is `<date>`, `Buffer` is `<data>`, integers and reals are numbers. */
export type PlistValue = string | number | boolean | Date | Buffer | PlistValue[] | PlistDict;
export interface PlistDict {
  [key: string]: PlistValue;
}

// ---------------------------------------------------------------------------------------------- plist reader

class PlistSyntaxError extends Error {}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith("#x")) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

class Reader {
  private i = 0;
  constructor(private readonly s: string) {}

  private skipMisc(): void {
    for (;;) {
      while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
      if (this.s.startsWith("<?", this.i)) this.i = this.until("?>") + 2;
      else if (this.s.startsWith("<!--", this.i)) this.i = this.until("-->") + 3;
      else if (this.s.startsWith("<!", this.i)) this.i = this.until(">") + 1;
      else return;
    }
  }

  private until(end: string): number {
    const j = this.s.indexOf(end, this.i);
    if (j < 0) throw new PlistSyntaxError(`unterminated markup, expected "${end}"`);
    return j;
  }

  /** Reads one tag: returns its name and whether it is a closing or self-closing tag. */
  private tag(): { name: string; closing: boolean; empty: boolean } {
    this.skipMisc();
    if (this.s[this.i] !== "<") throw new PlistSyntaxError(`expected a tag at offset ${this.i}`);
    const end = this.until(">");
    const raw = this.s.slice(this.i + 1, end).trim();
    this.i = end + 1;
    const closing = raw.startsWith("/");
    const empty = raw.endsWith("/");
    const name = raw.replace(/^\//, "").replace(/\/$/, "").trim().split(/\s+/)[0];
    return { name, closing, empty };
  }

  private text(name: string): string {
    const end = this.s.indexOf(`</${name}>`, this.i);
    if (end < 0) throw new PlistSyntaxError(`<${name}> is not closed`);
    const t = this.s.slice(this.i, end);
    this.i = end + name.length + 3;
    return decodeEntities(t);
  }

  document(): PlistValue {
    const open = this.tag();
    if (open.name !== "plist" || open.closing) throw new PlistSyntaxError("the document is not a <plist>");
    const value = this.value();
    const close = this.tag();
    if (close.name !== "plist" || !close.closing) throw new PlistSyntaxError("expected </plist>");
    return value;
  }

  private value(pre?: { name: string; closing: boolean; empty: boolean }): PlistValue {
    const t = pre ?? this.tag();
    if (t.closing) throw new PlistSyntaxError(`unexpected </${t.name}>`);
    switch (t.name) {
      case "true":
      case "false":
        if (!t.empty) this.expectClose(t.name);
        return t.name === "true";
      case "string":
        return t.empty ? "" : this.text("string");
      case "integer": {
        const v = this.text("integer").trim();
        if (!/^[+-]?\d+$/.test(v)) throw new PlistSyntaxError(`bad <integer> ${v}`);
        return Number(v);
      }
      case "real":
        return Number(this.text("real").trim());
      case "date": {
        const d = new Date(this.text("date").trim());
        if (Number.isNaN(d.getTime())) throw new PlistSyntaxError("bad <date>");
        return d;
      }
      case "data":
        return t.empty ? Buffer.alloc(0) : Buffer.from(this.text("data").replace(/\s+/g, ""), "base64");
      case "array": {
        const out: PlistValue[] = [];
        if (t.empty) return out;
        for (;;) {
          const n = this.tag();
          if (n.closing && n.name === "array") return out;
          out.push(this.value(n));
        }
      }
      case "dict": {
        const out: PlistDict = {};
        if (t.empty) return out;
        for (;;) {
          const k = this.tag();
          if (k.closing && k.name === "dict") return out;
          if (k.name !== "key") throw new PlistSyntaxError(`expected <key> in <dict>, got <${k.name}>`);
          const key = k.empty ? "" : this.text("key");
          out[key] = this.value();
        }
      }
      default:
        throw new PlistSyntaxError(`unsupported plist element <${t.name}>`);
    }
  }

  private expectClose(name: string): void {
    const c = this.tag();
    if (!c.closing || c.name !== name) throw new PlistSyntaxError(`expected </${name}>`);
  }
}

/** Parses an XML property list. Throws InvalidCredentialInput on malformed input. */
export function parsePlist(xml: string, field = "plist"): PlistValue {
  try {
    return new Reader(xml).document();
  } catch (cause) {
    const why = cause instanceof PlistSyntaxError ? cause.message : "unreadable";
    throw new InvalidCredentialInput(`The ${field} is not a valid XML property list (${why}).`, { field, cause });
  }
}

// ---------------------------------------------------------------------------------------------- plist writer

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Apple writes dates as ISO 8601 UTC without fractional seconds. */
function plistDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function writeValue(v: PlistValue, indent: string, out: string[]): void {
  if (typeof v === "string") out.push(`${indent}<string>${escapeXml(v)}</string>`);
  else if (typeof v === "boolean") out.push(`${indent}<${v}/>`);
  else if (typeof v === "number") out.push(Number.isInteger(v) ? `${indent}<integer>${v}</integer>` : `${indent}<real>${v}</real>`);
  else if (v instanceof Date) out.push(`${indent}<date>${plistDate(v)}</date>`);
  else if (Buffer.isBuffer(v)) out.push(`${indent}<data>${v.toString("base64")}</data>`);
  else if (Array.isArray(v)) {
    if (v.length === 0) return void out.push(`${indent}<array/>`);
    out.push(`${indent}<array>`);
    for (const x of v) writeValue(x, indent + "\t", out);
    out.push(`${indent}</array>`);
  } else {
    const keys = Object.keys(v);
    if (keys.length === 0) return void out.push(`${indent}<dict/>`);
    out.push(`${indent}<dict>`);
    for (const k of keys) {
      out.push(`${indent}\t<key>${escapeXml(k)}</key>`);
      writeValue(v[k], indent + "\t", out);
    }
    out.push(`${indent}</dict>`);
  }
}

/** Writes an XML property list with Apple's prolog and DOCTYPE. */
export function writePlist(value: PlistValue): string {
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
  ];
  writeValue(value, "", out);
  out.push("</plist>", "");
  return out.join("\n");
}

// ---------------------------------------------------------------------------------------------- .mobileprovision

/** The fields of a provisioning profile the provider reads (TN3125 lists them). */
export interface MobileProvision {
  uuid: string;
  name: string;
  /** First entry of `TeamIdentifier`. */
  teamIdentifier: string;
  teamName?: string;
  appIdName?: string;
  /** `Entitlements.application-identifier`, e.g. `ABCDE12345.com.acme.app` (may end in `*`). */
  applicationIdentifier: string;
  /** The application identifier without its team prefix. */
  bundleId: string;
  creationDate: Date;
  expirationDate: Date;
  /** DER of each certificate in `DeveloperCertificates`. */
  developerCertificates: Buffer[];
  /** UDIDs for development and ad hoc profiles; empty otherwise. */
  provisionedDevices: string[];
  provisionsAllDevices: boolean;
  entitlements: PlistDict;
  /** `Platform` array, e.g. `["iOS"]`. */
  platform: string[];
  /** The whole plist, for fields not surfaced above. */
  plist: PlistDict;
}

/** Extracts the signed plist XML from a DER `.mobileprovision`. Does not check Apple's signature. */
export function mobileprovisionContent(der: Buffer, field = "mobileprovision"): string {
  let p7: forge.pkcs7.Captured<forge.pkcs7.PkcsSignedData | forge.pkcs7.PkcsEnvelopedData>;
  try {
    const asn = forge.asn1.fromDer(forge.util.createBuffer(der.toString("binary")));
    p7 = forge.pkcs7.messageFromAsn1(asn);
  } catch (cause) {
    throw new InvalidCredentialInput(`The ${field} is not a DER CMS/PKCS#7 message (is it a .mobileprovision file?).`, {
      field,
      cause,
      remedy: "Pass the .mobileprovision file's bytes as downloaded from Apple, not its base64 or a decoded plist.",
    });
  }
  // forge leaves `p7.content` empty for SignedData it parsed; the encapsulated content is in the raw capture.
  const raw = p7.rawCapture as { content?: { value?: Array<{ value?: unknown }> } } | undefined;
  const node = raw?.content?.value?.[0];
  const content = collectOctets(node?.value);
  if (content === undefined) {
    throw new InvalidCredentialInput(`The ${field} is a CMS message without embedded content (a detached signature?).`, { field });
  }
  return forge.util.decodeUtf8(content);
}

/** The encapsulated OCTET STRING may be primitive (a string) or constructed (an array of OCTET STRINGs, BER). */
function collectOctets(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) {
    let s = "";
    for (const part of v as Array<{ value?: unknown }>) {
      const inner = collectOctets(part?.value);
      if (inner === undefined) return undefined;
      s += inner;
    }
    return s;
  }
  return undefined;
}

function str(d: PlistDict, key: string, field: string, required = true): string {
  const v = d[key];
  if (typeof v === "string") return v;
  if (!required && v === undefined) return "";
  throw new InvalidCredentialInput(`The ${field} has no ${key} string.`, { field });
}

function date(d: PlistDict, key: string, field: string): Date {
  const v = d[key];
  if (v instanceof Date) return v;
  throw new InvalidCredentialInput(`The ${field} has no ${key} date.`, { field });
}

function strings(v: PlistValue | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** Parses a DER `.mobileprovision` into its typed fields. Throws InvalidCredentialInput naming what is wrong. */
export function parseMobileprovision(der: Buffer, field = "mobileprovision"): MobileProvision {
  const plist = parsePlist(mobileprovisionContent(der, field), field);
  if (typeof plist !== "object" || plist === null || Array.isArray(plist) || plist instanceof Date || Buffer.isBuffer(plist)) {
    throw new InvalidCredentialInput(`The ${field} plist is not a dictionary.`, { field });
  }
  const entitlements = plist["Entitlements"];
  if (typeof entitlements !== "object" || Array.isArray(entitlements) || entitlements instanceof Date || Buffer.isBuffer(entitlements)) {
    throw new InvalidCredentialInput(`The ${field} has no Entitlements dictionary.`, { field });
  }
  const teams = strings(plist["TeamIdentifier"]);
  if (teams.length === 0) throw new InvalidCredentialInput(`The ${field} has no TeamIdentifier.`, { field });
  const applicationIdentifier = str(entitlements, "application-identifier", field, false) || str(entitlements, "com.apple.application-identifier", field);
  const prefix = applicationIdentifier.indexOf(".");
  const certs = plist["DeveloperCertificates"];
  return {
    uuid: str(plist, "UUID", field),
    name: str(plist, "Name", field),
    teamIdentifier: teams[0],
    teamName: str(plist, "TeamName", field, false) || undefined,
    appIdName: str(plist, "AppIDName", field, false) || undefined,
    applicationIdentifier,
    bundleId: prefix >= 0 ? applicationIdentifier.slice(prefix + 1) : applicationIdentifier,
    creationDate: date(plist, "CreationDate", field),
    expirationDate: date(plist, "ExpirationDate", field),
    developerCertificates: Array.isArray(certs) ? certs.filter((c): c is Buffer => Buffer.isBuffer(c)) : [],
    provisionedDevices: strings(plist["ProvisionedDevices"]),
    provisionsAllDevices: plist["ProvisionsAllDevices"] === true,
    entitlements,
    platform: strings(plist["Platform"]),
    plist,
  };
}
