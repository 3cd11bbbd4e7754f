/**
 * What `diff` tells the engine, and why. Reasons are shown to the user (the provider logs them,
 * and guards and limits put them in their errors), so they are written for people.
 */
import { containsUnknown } from "./unknown";

export interface DiffDecision {
  changes: boolean;
  /** Input names whose change forces a replacement (what Pulumi shows next to "replace"). */
  replaces: string[];
  /**
   * The replacements that are certain. The others depend on values unknown until apply (preview);
   * guards act on certain ones only, and the engine asks again with the real values at apply time.
   */
  certainReplaces: string[];
  deleteBeforeReplace?: boolean;
  reasons: string[];
}

export const NO_CHANGE: DiffDecision = { changes: false, replaces: [], certainReplaces: [], reasons: [] };

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

/** Key order and undefined members do not count as differences. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, normalize(x)]),
    );
  }
  return v;
}

export class DecisionBuilder {
  private replaces = new Set<string>();
  private certain = new Set<string>();
  private updates = new Set<string>();
  private reasons: string[] = [];
  private dbr = false;

  /** A change of this input means a new credential. Unknown (preview) counts as a change. */
  replaceOn(field: string, olds: unknown, news: unknown, why: string): this {
    if (containsUnknown(news)) {
      this.replaces.add(field);
      this.reasons.push(`${field} is not known until apply and may change: ${why}`);
    } else if (!same(olds, news)) {
      this.replaces.add(field);
      this.certain.add(field);
      this.reasons.push(`${field} changed: ${why}`);
    }
    return this;
  }

  /** A change of this input is applied in place. */
  updateOn(field: string, olds: unknown, news: unknown, why?: string): this {
    if (containsUnknown(news) || !same(olds, news)) {
      this.updates.add(field);
      if (why) this.reasons.push(`${field} changed: ${why}`);
    }
    return this;
  }

  /** A replacement forced by the credential's own condition (expiry, revocation), not an input. */
  replaceBecause(field: string, reason: string): this {
    this.replaces.add(field);
    this.certain.add(field);
    this.reasons.push(reason);
    return this;
  }

  deleteFirst(reason: string): this {
    this.dbr = true;
    this.reasons.push(reason);
    return this;
  }

  get replacing(): boolean {
    return this.replaces.size > 0;
  }

  /** A replacement that does not hang on values unknown in preview. */
  get replacingCertainly(): boolean {
    return this.certain.size > 0;
  }

  build(): DiffDecision {
    const replaces = [...this.replaces];
    return {
      changes: replaces.length > 0 || this.updates.size > 0,
      replaces,
      certainReplaces: [...this.certain],
      ...(this.dbr && replaces.length > 0 ? { deleteBeforeReplace: true } : {}),
      reasons: this.reasons,
    };
  }
}
