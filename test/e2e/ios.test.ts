/**
 * The iOS resources under the real `pulumi` CLI, against the Apple sandbox and a store in moto
 * S3 + KMS, through examples/quickstart: the platform rules of DESIGN.md as a user sees them.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseMobileprovision } from "../../provider/formats/mobileprovision";
import { certificateFacts } from "../../provider/formats/x509";
import { Vault } from "../../provider/store";
import { expectSuccess, pulumiBinDir } from "../harness/pulumi";
import { liveCertificates, newP8, newWorld, quickstartStack, sandboxState, setKeyFile } from "./ios-helpers";
import type { IosWorld } from "./ios-helpers";
import { PKCS8_PEM_BEGIN, PKCS8_PEM_END } from "../../provider/formats/p8";

jest.setTimeout(1_200_000);

const worlds: IosWorld[] = [];
afterAll(async () => {
  for (const w of worlds) await w.sandbox.stop();
});
async function world(): Promise<IosWorld> {
  const w = await newWorld();
  worlds.push(w);
  return w;
}

const team = (w: IosWorld) => w.sandbox.apiKey.teamId;
const certId = (w: IosWorld, stack: string) => ({ name: `ios/${team(w)}/certificates/appsigning-quickstart/${stack}/dist`, kind: "ios-distribution-certificate", scope: team(w) });
const profileId = (w: IosWorld, name: string, stack: string) => ({ name: `ios/${team(w)}/profiles/appsigning-quickstart/${stack}/${name}`, kind: "ios-provisioning-profile", scope: `${team(w)}.com.acme.app` });

interface IosOuts {
  ios: { certificateId: string; certificateSerial: string; appStoreProfile: { id: string }; adHocProfile: { id: string; devices: number }; pushKey: { keyId: string } };
}

/** Every process below `pid`, children first. */
function descendants(pid: number): number[] {
  const table = execFileSync("ps", ["-e", "-o", "pid=,ppid="]).toString().trim().split("\n").map((l) => l.trim().split(/\s+/).map(Number));
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of table) if (parent === p) { walk(child); out.push(child); }
  };
  walk(pid);
  return out;
}

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "ios-e2e-"));
}

test("up creates certificate, App Store and ad hoc profiles and push key; the sealed .p12 and profiles are real; no secret in state", async () => {
  const w = await world();
  const stack = await quickstartStack(w);
  try {
    const up = await stack.up();
    expectSuccess(up);
    const outs = (await stack.outputs()) as unknown as IosOuts;
    expect(outs.ios.certificateId).toBeTruthy();
    expect(outs.ios.adHocProfile.devices).toBe(1);

    const vault = Vault.open(w.store);
    const cert = await vault.get(certId(w, stack.stack));
    const dir = tmpdir();
    try {
      // The .p12 opens with openssl and the sealed password; its key matches its certificate.
      const p12 = path.join(dir, "dist.p12");
      fs.writeFileSync(p12, cert.bundle.p12 as Buffer);
      const env = { ...process.env, P12_PASS: String(cert.bundle.p12Password) };
      const certPem = execFileSync("openssl", ["pkcs12", "-in", p12, "-passin", "env:P12_PASS", "-nokeys", "-clcerts"], { env }).toString();
      const keyPem = execFileSync("openssl", ["pkcs12", "-in", p12, "-passin", "env:P12_PASS", "-nocerts", "-nodes"], { env }).toString();
      const pubFromCert = execFileSync("openssl", ["x509", "-pubkey", "-noout"], { input: certPem }).toString();
      const pubFromKey = execFileSync("openssl", ["pkey", "-pubout"], { input: keyPem }).toString();
      expect(pubFromKey).toBe(pubFromCert);
      expect(certificateFacts(certPem).serialNumber).toBe(outs.ios.certificateSerial);

      // Each profile is a CMS-signed .mobileprovision that contains the certificate.
      for (const name of ["appstore", "adhoc"]) {
        const prof = await vault.get(profileId(w, name, stack.stack));
        const file = path.join(dir, `${name}.mobileprovision`);
        fs.writeFileSync(file, prof.bundle.mobileprovision as Buffer);
        const plist = execFileSync("openssl", ["cms", "-verify", "-noverify", "-inform", "DER", "-in", file], { stdio: ["ignore", "pipe", "ignore"] }).toString();
        expect(plist).toContain("<key>DeveloperCertificates</key>");
        const parsed = parseMobileprovision(prof.bundle.mobileprovision as Buffer);
        expect(parsed.developerCertificates.map((d) => d.equals(cert.bundle.certificate as Buffer))).toContain(true);
        expect(parsed.applicationIdentifier).toBe(`${team(w)}.com.acme.app`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }

    // Nothing secret in state, even with secrets decrypted.
    const state = await stack.exportWithSecrets();
    const body = (pem: string) => pem.split("\n").filter((l) => l && !l.startsWith("-----"))[1];
    const secrets: Record<string, string> = {
      "the certificate's private key": body(String(cert.bundle.privateKey)),
      "the .p12 password": String(cert.bundle.p12Password),
      "the .p12": (cert.bundle.p12 as Buffer).toString("base64").slice(0, 80),
      "the App Store Connect API key": body(w.sandbox.apiKey.privateKeyPem),
      "the APNs .p8": body(w.apnsP8),
    };
    // Report which secret leaked, never the secret itself.
    expect(Object.entries(secrets).filter(([, v]) => state.includes(v)).map(([k]) => k)).toEqual([]);

    // Running again changes nothing.
    expect((await stack.preview(["--expect-no-changes"])).code).toBe(0);
  } finally {
    await stack.dispose();
  }
});

test("replacing the certificate replaces every profile made with it: preview shows it, up does it", async () => {
  const w = await world();
  const stack = await quickstartStack(w);
  try {
    expectSuccess(await stack.up());
    const before = (await stack.outputs()) as unknown as IosOuts;

    // A changed input that forces a new certificate.
    await stack.setConfig("certificateType", "IOS_DISTRIBUTION");
    const plan = await stack.plan();
    expect(plan.code).toBe(0);
    expect(plan.ops.dist).toContain("replace");
    expect(plan.ops.appstore).toContain("replace");
    expect(plan.ops.adhoc).toContain("replace");
    expect(plan.ops.apns ?? ["same"]).not.toContain("replace");
    const up = await stack.up();
    expectSuccess(up);
    const after = (await stack.outputs()) as unknown as IosOuts;
    expect(after.ios.certificateId).not.toBe(before.ios.certificateId);
    const vault = Vault.open(w.store);
    const cert = await vault.get(certId(w, stack.stack));
    for (const name of ["appstore", "adhoc"]) {
      const parsed = parseMobileprovision((await vault.get(profileId(w, name, stack.stack))).bundle.mobileprovision as Buffer);
      expect(parsed.developerCertificates.some((d) => d.equals(cert.bundle.certificate as Buffer))).toBe(true);
    }
    // revokeOnDelete: the old certificate was revoked after its replacement existed.
    let s = await sandboxState(w);
    expect(liveCertificates(s).map((c) => c.id)).toEqual([after.ios.certificateId]);

    // The same cascade from `pulumi up --replace <certificate urn>`.
    const urn = await stack.urn("dist");
    const forced = await stack.plan(["--replace", urn]);
    expect(forced.ops.appstore).toContain("replace");
    expect(forced.ops.adhoc).toContain("replace");
    expectSuccess(await stack.up(["--replace", urn]));
    const third = (await stack.outputs()) as unknown as IosOuts;
    expect(third.ios.certificateId).not.toBe(after.ios.certificateId);
    s = await sandboxState(w);
    const profiles = s.profiles.filter((p) => p.profileState === "ACTIVE");
    expect(profiles.find((p) => p.id === third.ios.appStoreProfile.id)?.certificateIds).toEqual([third.ios.certificateId]);
  } finally {
    await stack.dispose();
  }
});

test("with the clock past the renewal window, preview --refresh shows renewals and up renews", async () => {
  const w = await world();
  const stack = await quickstartStack(w);
  try {
    expectSuccess(await stack.up());
    const before = (await stack.outputs()) as unknown as IosOuts;
    await w.sandbox.admin.advanceClock(345);
    const plan = await stack.plan(["--refresh"]);
    expect(plan.code).toBe(0);
    expect(plan.ops.dist).toContain("replace");
    expect(plan.ops.appstore).toContain("replace");
    expect(plan.ops.adhoc).toContain("replace");
    expect(plan.output).toMatch(/inside the renewBeforeDays window of 30/);
    expectSuccess(await stack.up(["--refresh"]));
    const after = (await stack.outputs()) as unknown as IosOuts & { ios: { certificateExpires: string } };
    expect(after.ios.certificateId).not.toBe(before.ios.certificateId);
    const now = Date.parse(String((await w.sandbox.admin.clock() as { now: string }).now));
    expect(Date.parse(after.ios.certificateExpires) - now).toBeGreaterThan(300 * 86_400_000);
    expect((await stack.plan(["--refresh"])).ops.dist).not.toContain("replace");
  } finally {
    await stack.dispose();
  }
});

test("a certificate revoked behind Pulumi's back shows as drift on refresh, and up repairs it", async () => {
  const w = await world();
  const stack = await quickstartStack(w);
  try {
    expectSuccess(await stack.up());
    const before = (await stack.outputs()) as unknown as IosOuts;
    await w.sandbox.admin.revokeCertificate(before.ios.certificateId);
    const refresh = await stack.refresh(["--expect-no-changes"]);
    expect(refresh.code).not.toBe(0);
    const res = await stack.resources();
    expect(res.find((r) => r.urn.endsWith("::dist"))?.outputs?.appleState).toBe("REVOKED");
    expect(res.find((r) => r.urn.endsWith("::appstore"))?.outputs?.profileState).toBe("INVALID");
    const plan = await stack.plan();
    expect(plan.ops.dist).toContain("replace");
    expect(plan.output).toMatch(/revoked at Apple/);
    expectSuccess(await stack.up());
    const after = (await stack.outputs()) as unknown as IosOuts;
    expect(after.ios.certificateId).not.toBe(before.ios.certificateId);
    const s = await sandboxState(w);
    expect(s.profiles.find((p) => p.id === after.ios.appStoreProfile.id)?.profileState).toBe("ACTIVE");
    expect(liveCertificates(s)).toHaveLength(1);
  } finally {
    await stack.dispose();
  }
});

test("the team's certificate limit: two stacks racing for the last slot, one wins; a third certificate is refused with the list of holders", async () => {
  const w = await world();
  const a = await quickstartStack(w, "a");
  const b = await quickstartStack(w, "b");
  const c = await quickstartStack(w, "c");
  try {
    expectSuccess(await a.up());
    const [rb, rc] = await Promise.all([b.up(), c.up()]);
    const results = [rb, rc];
    expect(results.filter((r) => r.code === 0)).toHaveLength(1);
    const loser = results.find((r) => r.code !== 0)!;
    expect(loser.output).toMatch(/already has 2 DISTRIBUTION certificate\(s\), the limit is 2/);
    expect(loser.output).toMatch(/key in this store as "ios\/[A-Z0-9]+\/certificates\/appsigning-quickstart\/a-[0-9a-f]+\/dist"/);
    expect(loser.output).toMatch(/Import one of them/);
    expect(liveCertificates(await sandboxState(w))).toHaveLength(2);
    // The loser tries again: still refused, and Apple still has two.
    const again = await (rb.code === 0 ? c : b).up();
    expect(again.code).not.toBe(0);
    expect(again.output).toMatch(/the limit is 2/);
    expect(liveCertificates(await sandboxState(w))).toHaveLength(2);
  } finally {
    for (const s of [a, b, c]) await s.dispose();
  }
});

test("a crash after the key is sealed and before Apple answers: the next up completes with the same key and no extra certificate", async () => {
  const w = await world();
  const stack = await quickstartStack(w);
  const vault = Vault.open(w.store);
  try {
    await w.sandbox.admin.injectFault({ route: "/v1/certificates", method: "POST", kind: "delay-after-commit", delayMs: 120_000 } as never);
    const child = spawn(path.join(pulumiBinDir(), "pulumi"), ["up", "--yes", "--skip-preview", "--non-interactive", "--cwd", stack.programDir, "--stack", stack.stack], {
      env: stack.env,
      detached: true,
      stdio: "ignore",
    });
    // Wait until the key is sealed as pending and Apple has issued the certificate, then kill everything.
    let pendingKey = "";
    for (let i = 0; i < 600; i++) {
      const head = await vault.head(certId(w, stack.stack).name);
      const issued = (await sandboxState(w)).certificates.length;
      if (head?.state === "pending" && issued === 1) {
        pendingKey = String((await vault.get(certId(w, stack.stack))).bundle.privateKey);
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(pendingKey).toContain(PKCS8_PEM_BEGIN);
    // Pulumi starts its plugins in process groups of their own: kill the whole tree, as a power cut would.
    for (const pid of [...descendants(child.pid!), child.pid!]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    await w.sandbox.admin.clearFaults();

    // A killed run leaves its lock and an interrupted create; clear both as a user would.
    fs.rmSync(path.join(stack.tmp, "state", ".pulumi", "locks"), { recursive: true, force: true });
    await stack.refresh(["--clear-pending-creates"]);
    const up = await stack.up();
    expectSuccess(up);
    // The key sealed before the crash was completed, not replaced: one pending version, then the active one.
    expect(await vault.versions(certId(w, stack.stack).name)).toHaveLength(2);
    const s = await sandboxState(w);
    expect(s.certificates).toHaveLength(1);
    const sealed = await vault.get(certId(w, stack.stack));
    expect(sealed.header.state).toBe("active");
    expect(String(sealed.bundle.privateKey)).toBe(pendingKey);
    const outs = (await stack.outputs()) as unknown as IosOuts;
    expect(outs.ios.certificateId).toBe(s.certificates[0].id);
  } finally {
    await stack.dispose();
  }
});

test("push key: a bad .p8 fails preview and nothing is written; replacing needs allowReplace", async () => {
  const w = await world();
  const stack = await quickstartStack(w);
  const vault = Vault.open(w.store);
  try {
    await setKeyFile(stack, "apnsP8File", `${PKCS8_PEM_BEGIN}\nnot a key\n${PKCS8_PEM_END}`);
    const bad = await stack.preview();
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/p8/);
    expect(bad.output).toMatch(/not a readable PKCS#8 private key|is not a PKCS#8/);
    expect(await vault.list()).toEqual([]);

    await setKeyFile(stack, "apnsP8File", w.apnsP8);
    expectSuccess(await stack.up());

    await setKeyFile(stack, "apnsP8File", newP8());
    const guarded = await stack.preview();
    expect(guarded.code).not.toBe(0);
    expect(guarded.output).toMatch(/Refusing to replace push key APNS123456/);
    expect(guarded.output).toMatch(/loses? push notifications/);
    expect(guarded.output).toMatch(/allowReplace: true/);

    await stack.setConfig("allowPushKeyReplace", "true");
    const replaced = await stack.up();
    expectSuccess(replaced);
    const pushName = `ios/${team(w)}/push-keys/appsigning-quickstart/${stack.stack}/apns`;
    expect(await vault.versions(pushName)).toHaveLength(2);
  } finally {
    await stack.dispose();
  }
});

test("renewal at the slot limit: with revokeOnDelete the old certificate is revoked first and its slot reused; without it preview says there is no slot", async () => {
  const w = await world();
  const a = await quickstartStack(w, "a");
  const b = await quickstartStack(w, "b", { revokeOnDelete: "false" });
  try {
    expectSuccess(await a.up());
    expectSuccess(await b.up());
    const before = (await a.outputs()) as unknown as IosOuts;
    expect(liveCertificates(await sandboxState(w))).toHaveLength(2);
    await w.sandbox.admin.advanceClock(345);

    // Stack b may not revoke: its renewal has no slot, and preview says so with the holders and the ways out.
    const stuck = await b.plan(["--refresh"]);
    expect(stuck.code).not.toBe(0);
    expect(stuck.output).toMatch(/the limit is 2/);
    expect(stuck.output).toMatch(/revokeOnDelete: true/);

    // Stack a may: the plan deletes (revokes) first, and up renews within the limit.
    const plan = await a.plan(["--refresh"]);
    expect(plan.code).toBe(0);
    expect(plan.output).toMatch(/revoked first and its slot reused/);
    expectSuccess(await a.up(["--refresh"]));
    const after = (await a.outputs()) as unknown as IosOuts;
    expect(after.ios.certificateId).not.toBe(before.ios.certificateId);
    const s = await sandboxState(w);
    expect(s.certificates.find((c) => c.id === before.ios.certificateId)?.state).toBe("REVOKED");
    expect(liveCertificates(s)).toHaveLength(2);
    expect(s.profiles.find((p) => p.id === after.ios.appStoreProfile.id)?.certificateIds).toEqual([after.ios.certificateId]);
  } finally {
    await a.dispose();
    await b.dispose();
  }
});
